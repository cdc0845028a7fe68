"""A tigase-py server in its own process (`python -m tigase_py.server`), for tests that kill it.

The config is rendered once into a directory and reused by every start, so a restart finds the
same database, pidfile and ports.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import free_ports
from tigase_py.compat_tests.peers.tigase_py_config import Listener, render_config
from tigase_py.server.config.certs import write_self_signed

START_TIMEOUT = 30.0


@dataclass
class ServerProcess:
    directory: Path
    c2s_port: int
    http_port: int
    process: asyncio.subprocess.Process | None = None

    @property
    def config(self) -> Path:
        return self.directory / "tigase.toml"

    @property
    def pidfile(self) -> Path:
        return self.directory / "tigase.pid"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    @classmethod
    def prepare(
        cls, directory: Path, storage_url: str, extra: str = "", storage: dict[str, str] | None = None
    ) -> ServerProcess:
        vhost = "localhost"
        cert, key = write_self_signed(vhost, directory / "certs")
        c2s, http = free_ports(2)
        text = render_config(
            vhosts=(vhost,),
            storage_url=storage_url,
            certificate=cert,
            key=key,
            listeners=[Listener(c2s, "none", require_tls=False)],
            http_port=http,
            pidfile=directory / "tigase.pid",  # see the pidfile property
            log_level="info",
            auth={"allow_plain_without_tls": True},
            http={"api_keys": {"tests": "test-api-key-0123456789"}},
            storage=storage,
            extra=extra,
        )
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "tigase.toml").write_text(text)
        return cls(directory, c2s, http)

    async def start(self, python: str = sys.executable) -> None:
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                python, "-m", "tigase_py.server", "--config", os.fspath(self.config),
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.directory,
            )  # fmt: skip
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        while True:
            if self.process.returncode is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}: {self.log_tail()}")
            try:
                if not self.pidfile.exists():  # written by the last start-up step, after every listener
                    raise FileNotFoundError(self.pidfile)
                _, writer = await asyncio.open_connection("127.0.0.1", self.c2s_port)
                writer.close()
                return
            except OSError:
                if asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError(f"server not listening after {START_TIMEOUT}s: {self.log_tail()}") from None
            await asyncio.sleep(0.05)

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await asyncio.wait_for(self.process.wait(), START_TIMEOUT)

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), START_TIMEOUT)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
