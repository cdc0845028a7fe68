"""A part that cannot start (a c2s port taken) stops the parts started before it, in reverse, and the
server exits 1 with one error line and no traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.xmpp_harness import write_config

EXIT_TIMEOUT = 30.0


def test_a_taken_port_undoes_the_started_steps_and_exits_1_cleanly(tmp_path: Path) -> None:
    path, starttls, direct, _plain = write_config(tmp_path, ("localhost",))
    env = {key: value for key, value in os.environ.items() if key != "TIGASE_PY_CONFIG"}
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", direct))  # the second listener: the first one will have started
        taken.listen()
        done = subprocess.run(
            [sys.executable, "-m", "tigase_py.server", "--config", str(path)],
            capture_output=True,
            text=True,
            timeout=EXIT_TIMEOUT,
            env=env,
        )
    log = done.stderr
    assert done.returncode == 1, log
    assert "Traceback" not in log, log
    errors = [line for line in log.splitlines() if " ERROR " in line]
    assert len(errors) == 1, log
    assert f"startup failed at listeners: cannot listen on 127.0.0.1:{direct}: " in errors[0]
    assert "address already in use" in errors[0].lower()
    assert f"listening c2s 127.0.0.1:{starttls}" in log  # the first listener was up ...
    stopped = [line.rsplit("step=", 1)[1] for line in log.splitlines() if "lifecycle_stopped step=" in line]
    assert stopped == ["modules", "core", "storage", "pidfile"], log  # ... and every earlier step went back
    assert "vhost_loaded vhost=localhost" in log
    assert "ready: listening" not in log
    assert not (tmp_path / "tigase.pid").exists()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as again:
        again.bind(("127.0.0.1", starttls))  # the listener that had started is closed
