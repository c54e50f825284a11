"""The two widths every journey runs at, and where the browser tests put what they save."""

from dataclasses import dataclass
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"  # git-ignored
SCREENSHOTS = ARTIFACTS / "screenshots"
FAILURES = ARTIFACTS / "failures"


@dataclass(frozen=True)
class Device:
    name: str
    width: int
    height: int
    mobile: bool

    def context_options(self) -> dict:
        options = {"viewport": {"width": self.width, "height": self.height}, "locale": "en-GB"}
        if self.mobile:
            options.update(is_mobile=True, has_touch=True)
        return options


PHONE = Device("phone", 390, 844, mobile=True)
DESKTOP = Device("desktop", 1280, 900, mobile=False)
DEVICES = [PHONE, DESKTOP]
