"""Small helpers shared by the test suite: ports, waiting for listeners, running the CLI."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Mapping
from pathlib import Path

CLI_NAME = "tigase-py"


def require_tool(binary: str, package: str) -> None:
    """Skip when `binary` is missing, except under CI=true, where scripts/test installs it: fail there."""
    import pytest

    if shutil.which(binary) is not None:
        return
    reason = f"{binary} is not installed (apt-get install {package})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that were free a moment ago (all held at once while chosen)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    """Poll until ``host:port`` accepts a TCP connection; raise ``TimeoutError`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last_error: OSError | None = None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"{host}:{port} not accepting connections after {timeout}s: {last_error}")
        try:
            with socket.create_connection((host, port), timeout=min(1.0, remaining)):
                return
        except OSError as exc:
            last_error = exc
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))


def cli_command() -> list[str]:
    """The argv prefix that runs the installed ``tigase-py`` console script.

    The script next to the running interpreter wins (avoids pyenv shims picking another Python),
    then whatever is on PATH, then the entry point called through this interpreter.
    """
    scripts_dir = sysconfig.get_path("scripts")
    found = shutil.which(CLI_NAME, path=scripts_dir) or shutil.which(CLI_NAME, path=str(Path(sys.executable).parent))
    if found is None:
        found = shutil.which(CLI_NAME)
    if found is not None:
        return [found]
    return [sys.executable, "-c", "from tigase_py.cli.main import run; run()"]


def run_cli(
    *args: str | os.PathLike[str],
    env: Mapping[str, str | None] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 60.0,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``tigase-py *args`` and capture its output as text; never raises on a non-zero exit.

    ``env`` is layered over ``os.environ``; a value of ``None`` removes that variable.
    ``TIGASE_PY_CONFIG`` is removed unless ``env`` sets it, so the caller's shell cannot leak a
    config file into a test.
    """
    full_env = dict(os.environ)
    full_env.pop("TIGASE_PY_CONFIG", None)
    full_env.setdefault("COLUMNS", "200")
    full_env.setdefault("NO_COLOR", "1")
    for key, value in (env or {}).items():
        if value is None:
            full_env.pop(key, None)
        else:
            full_env[key] = value
    return subprocess.run(
        [*cli_command(), *(os.fspath(arg) for arg in args)],
        env=full_env,
        cwd=cwd,
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
