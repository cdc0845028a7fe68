"""Run the real ``tigase-py`` CLI as a subprocess from a test whose event loop also runs the server;
``status --via all`` and ``--watch`` against our server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from pathlib import Path

from tests.helpers import cli_command
from tigase_py.server import __version__

TIMEOUT = 60.0


async def cli(*args: str | os.PathLike[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    full_env.pop("TIGASE_PY_CONFIG", None)
    process = await asyncio.create_subprocess_exec(
        *cli_command(), *(os.fspath(a) for a in args), env=full_env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    argv = [os.fspath(a) for a in args]
    return subprocess.CompletedProcess(argv, process.returncode or 0, out.decode(), err.decode())


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single ``error: ...`` line a failing command printed (asserts there is exactly one).

    Warnings (a config or data directory other users can read) may come before it.
    """
    lines = [line for line in done.stderr.strip().splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


async def test_status_via_all_channels_of_our_server(tmp_path: Path) -> None:
    from tests.integration.test_monitoring_snmp import free_udp_port, snmp_settings
    from tests.xmpp_harness import running_server

    async with running_server(tmp_path, extra=snmp_settings(free_udp_port()), admins=("admin@localhost",)) as handle:
        await handle.add_user("admin@localhost")
        done = await cli(
            "--config", tmp_path / "tigase.toml", "status", "--via", "all", "--snmp-community", "s3cret-community",
            "--xmpp-jid", "admin@localhost", "--xmpp-password", "secret", "--xmpp-host", "127.0.0.1",
            "--xmpp-port", str(handle.starttls_port), "--xmpp-no-verify", "--json",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["state"] == "healthy"
    # JMX reads our own /jolokia (the config has an HTTP listener), with no Java involved.
    assert [p["probe"] for p in document["probes"]] == ["http", "snmp", "jmx", "xmpp"]
    assert document["probes"][2]["target"].endswith("/jolokia")
    assert {p["version"] for p in document["probes"]} >= {__version__}


async def test_status_watch_redraws_until_interrupted(tmp_path: Path) -> None:
    from tests.xmpp_harness import running_server

    async with running_server(tmp_path):
        process = await asyncio.create_subprocess_exec(
            *cli_command(), "--config", os.fspath(tmp_path / "tigase.toml"), "status", "--watch", "--interval", "0.5",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "COLUMNS": "200", "FORCE_COLOR": "1"},  # draw every screen, as on a terminal
        )  # fmt: skip
        assert process.stdout is not None
        seen = b""
        async with asyncio.timeout(TIMEOUT):  # interrupt only once two screens were drawn
            while seen.count(b"Ctrl-C to stop") < 2:
                chunk = await process.stdout.read(4096)
                assert chunk, "status --watch ended before drawing twice"
                seen += chunk
        process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(process.communicate(), TIMEOUT)
    assert process.returncode == 0, err.decode()
    assert "HEALTHY" in (seen + out).decode()
