"""scripts/supervise starts a command again when it exits, and stops with it on SIGTERM."""

import signal
import subprocess
import sys

from tests.conftest import ROOT
from tests.utils import wait_for


def test_a_command_that_exits_is_started_again_and_sigterm_stops_both(tmp_path):
    runs = tmp_path / "runs"
    child = f"open({str(runs)!r}, 'a').write('x'); import time; time.sleep(0.2)"
    supervisor = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts/supervise"), "demo", "--", sys.executable, "-c", child],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for(lambda: runs.exists() and len(runs.read_text()) >= 2, timeout=10)
    finally:
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=10) == 0
    assert "demo exited with code 0; starting it again in 1 s" in supervisor.stderr.read()


def test_sigterm_reaches_a_long_running_command(tmp_path):
    marker, ready = tmp_path / "stopped", tmp_path / "ready"
    child = (
        "import signal, sys, time\n"
        f"signal.signal(signal.SIGTERM, lambda *a: (open({str(marker)!r}, 'w').write('ok'), sys.exit(0)))\n"
        f"open({str(ready)!r}, 'w').write('ready')\n"
        "time.sleep(60)\n"
    )
    supervisor = subprocess.Popen([sys.executable, str(ROOT / "scripts/supervise"), "long", "--", sys.executable,
                                   "-c", child])  # fmt: skip
    assert wait_for(ready.exists, timeout=10)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=10) == 0
    assert marker.read_text() == "ok"
