"""`tigase-py doctor` against a real server process: its ports are held by it (found through its
pidfile and /proc), its open-files limit is read from it, and its database is at head. With the
server gone and a foreign process on its c2s port, doctor names that port and exits 1."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
from pathlib import Path

from tests.helpers import cli_command
from tests.server_process import ServerProcess


async def doctor(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("TIGASE_PY_CONFIG", None)
    process = await asyncio.create_subprocess_exec(
        *cli_command(), "--config", os.fspath(config), "doctor", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return subprocess.CompletedProcess(list(args), process.returncode or 0, out.decode(), err.decode())


async def test_doctor_against_a_running_server_then_a_foreign_port_holder(tmp_path: Path) -> None:
    server = ServerProcess.prepare(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'tigase.db'}")
    server.config.chmod(0o600)
    await server.start()
    try:
        assert server.process is not None
        pid = server.process.pid
        done = await doctor(server.config, "--json")
        assert done.returncode == 0, done.stderr + done.stdout
        findings = json.loads(done.stdout)["findings"]
        by_check = {(f["check"], f["subject"]): f for f in findings}
        held = by_check[("ports", f"c2s 127.0.0.1:{server.c2s_port}/tcp")]
        assert held["status"] == "ok" and held["detail"] == f"held by the running server (pid {pid})"
        assert by_check[("ports", f"http 127.0.0.1:{server.http_port}/tcp")]["status"] == "ok"
        open_files = next(f for f in findings if f["check"] == "open-files")
        assert open_files["subject"] == f"server (pid {pid})"
        database = next(f for f in findings if f["check"] == "database")
        assert database["status"] == "ok" and "schema at head" in database["detail"]
    finally:
        await server.stop()

    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", server.c2s_port))
        squatter.listen()
        done = await doctor(server.config, "ports")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: ports: c2s 127.0.0.1:{server.c2s_port}/tcp: in use by another process"
    ]
    assert "PROBLEM" in done.stdout
