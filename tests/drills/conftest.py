import pytest

from tests.drills.stack import Stack
from tests.throwaway import ensure_installed


@pytest.fixture(scope="module")
def stack(request, tmp_path_factory):
    """A production-like stack on throwaway servers, one per drill module (tests.drills.stack)."""
    ensure_installed()
    site = Stack(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]))
    try:
        site.start()
        yield site
    finally:
        site.stop()
