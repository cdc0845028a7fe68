"""The benchmark's own server: generated config, accounts, start-up polling, settling and profiling."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.stats import CpuMeter, cpu_seconds, fd_count

DOMAIN = "localhost"
PASSWORD = "bench-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(directory: Path, port: int, max_connections: int) -> Path:
    from tigase_py.compat_tests.peers.tigase_py_config import Listener, render_config
    from tigase_py.server.config.certs import write_self_signed

    cert, key = write_self_signed(DOMAIN, directory / "certs")
    text = render_config(
        vhosts=[DOMAIN],
        storage_url=f"sqlite+aiosqlite:///{directory / 'tigase.db'}",
        certificate=cert,
        key=key,
        listeners=[Listener(port, "starttls", require_tls=True)],
        limits={"max_connections": max_connections},
        http_port=free_port(),
    )
    path = directory / "tigase.toml"
    path.write_text(text)
    return path


async def create_users(directory: Path, names: list[str], batch: int = 64) -> float:
    from tigase_py.server.storage.engine import open_storage

    start = time.perf_counter()
    storage = await open_storage(f"sqlite+aiosqlite:///{directory / 'tigase.db'}", create=True)
    try:
        for i in range(0, len(names), batch):
            await asyncio.gather(*(storage.users.create(n, DOMAIN, PASSWORD) for n in names[i : i + batch]))
    finally:
        await storage.close()
    return time.perf_counter() - start


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return time.perf_counter() - start
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("server did not open its port in time")


IDLE_SETTLE_SECONDS = 11.0


def wait_quiet(pid: int, threshold: float = 5.0, interval: float = 0.25, timeout: float = 15.0) -> None:
    """Poll until the server uses < ``threshold``% CPU over ``interval``."""
    meter = CpuMeter(pid)
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        meter.start(time.perf_counter())
        time.sleep(interval)
        if meter.percent(time.perf_counter()) < threshold:
            return


def wait_fds(pid: int, target: int, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline and fd_count(pid) > target:
        time.sleep(0.05)


def profile_command(pid: int, seconds: int, out: Path) -> subprocess.Popen[bytes] | None:
    try:
        return subprocess.Popen(
            ["py-spy", "record", "-d", str(seconds), "-r", "200", "-f", "raw", "--nonblocking"]
            + ["-o", str(out), "--pid", str(pid)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    except FileNotFoundError:
        return None


class LocalServer:
    """Our server as a subprocess in a temp dir, with its accounts created first."""

    def __init__(self, directory: Path, names: list[str], max_connections: int) -> None:
        self.directory = directory
        self.port = free_port()
        config = write_config(directory, self.port, max_connections)
        print(f"temp dir {directory}; creating {len(names)} accounts (PBKDF2 4096)...", flush=True)
        self.create_s = asyncio.run(create_users(directory, names))
        print(f"  accounts created in {self.create_s:.1f}s", flush=True)
        self.log_path = directory / "server.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tigase_py.server", "--config", str(config)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=directory,
        )
        self.pid = self.proc.pid

    def stop(self, results: dict[str, Any]) -> None:
        results["server_alive_at_end"] = self.proc.poll() is None
        results["server_cpu_total_s"] = cpu_seconds(self.pid) if self.proc.poll() is None else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()
        results["server_exit_code"] = self.proc.returncode
        text = self.log_path.read_text(errors="replace")
        results["server_log_lines"] = len(text.splitlines())
        results["server_log_tail"] = text.splitlines()[-40:]
