"""A fresh server imports only what serving clients needs (README "Performance": memory at start).

The server runs in a child process (``serve(..., schema_in_child=True)``, as ``python -m tigase_py.server``
does); at ``ready`` it reports ``sys.modules``. HTTP, the admin socket's application and Alembic are
loaded only when used; the command line, installer, compat/load code and monitoring never are, nor (on
SQLite) SQLAlchemy's MySQL dialect.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from tests.server_process import ServerProcess
from tigase_py.server.storage.engine import open_storage

NOT_AT_START = (
    "aiohttp", "alembic", "mako", "prometheus_client", "pysnmp", "jmxquery", "typer", "rich", "ansible_runner",
    "sqlalchemy.orm", "sqlalchemy.ext.asyncio", "greenlet", "sqlalchemy.dialects.mysql", "sqlalchemy.connectors.pyodbc",
    "tigase_py.cli", "tigase_py.installer", "tigase_py.compat_tests", "tigase_py.monitoring",
    "tigase_py.server.http_api", "tigase_py.server.observe.snmp_agent", "tigase_py.server.net.http",
)  # fmt: skip
DRIVER = """
import asyncio, json, sys
from pathlib import Path
from tigase_py.server.app import serve
from tigase_py.server.config.load import load_config

async def main() -> None:
    stop = asyncio.Event()
    def ready(_server: object) -> None:
        print(json.dumps(sorted(sys.modules)), flush=True)
        stop.set()
    code = await serve(load_config(Path(sys.argv[1])), ready=ready, stop=stop, signals=False, schema_in_child=True)
    sys.exit(code)

asyncio.run(main())
"""


def is_within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_fresh_server_imports_nothing_it_does_not_serve_with(tmp_path: Path) -> None:
    server = ServerProcess.prepare(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'tigase.db'}")
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, str(server.config)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "tigase_py.server.modules.roster" in loaded and "tigase_py.server.net.lazy_http" in loaded
    unwanted = sorted(name for name in loaded if any(is_within(name, package) for package in NOT_AT_START))
    assert unwanted == []


async def http_get(port: int, path: str) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
    response = await asyncio.wait_for(reader.read(), 20)
    writer.close()
    status = int(response.split(b" ", 2)[1])
    return status, response.partition(b"\r\n\r\n")[2]


async def test_http_application_is_built_on_the_first_connections(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tigase.db'}"
    storage = await open_storage(url, create=True)
    await storage.close()
    server = ServerProcess.prepare(tmp_path, url)
    await server.start()
    try:
        # Several connections before the application exists: each waits for it, none is lost.
        answers = await asyncio.gather(*(http_get(server.http_port, "/metrics") for _ in range(4)))
        assert [status for status, _ in answers] == [200] * 4
        assert all(b"process_resident_memory_bytes" in body for _, body in answers)
        status, _ = await http_get(server.http_port, "/api/v1/vhosts")
        assert status == 401
    finally:
        await server.stop()
    log = server.log.read_text(errors="replace")
    assert log.count("http_app_building app=http") == 1
    assert "http_app_failed" not in log and "Traceback" not in log


async def test_foreground_start_becomes_the_bare_server(tmp_path: Path) -> None:
    """``server start --foreground`` (the systemd unit's command) replaces itself with ``python -m
    tigase_py.server``: same pid, so what it imports is what the first test checks."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'tigase.db'}"
    server = ServerProcess.prepare(tmp_path, url)
    cli = ("-c", "from tigase_py.cli.main import run; run()", "--config", str(server.config))
    with server.log.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, *cli, "server", "start", "--foreground", stdout=log, stderr=log, cwd=tmp_path
        )
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while "ready: listening" not in server.log.read_text(errors="replace"):
            assert process.returncode is None, server.log_tail()
            assert asyncio.get_running_loop().time() < deadline, server.log_tail()
            await asyncio.sleep(0.05)
        command = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert command[1:4] == [b"-m", b"tigase_py.server", b"--config"]
    finally:
        process.terminate()
        code = await asyncio.wait_for(process.wait(), 30)
    assert code == 0
