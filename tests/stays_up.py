"""A server in its own process, a bystander that pings it, and the figures that say it stayed up.

Hostile-input and fault tests attack a server that runs in a separate process (so the attacker's and
the bystander's event loops are not the server's), while a logged-in bystander sends an XEP-0199 ping
every 100 ms and records each round trip. A test then asserts on the bystander's p99, the server's
resident memory and the absence of tracebacks in its log.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import tomllib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers import run_cli
from tests.xmpp_harness import TIMEOUT, RawClient, write_config

PING_INTERVAL = 0.1
API_KEY = "test-api-key-0123456789"  # the key tests.xmpp_harness.write_config puts in [http] api_keys


@dataclass
class ServerProcess:
    """A tigase-py server started with ``python -m tigase_py.server`` on loopback ports."""

    process: asyncio.subprocess.Process
    directory: Path
    config_path: Path
    starttls_port: int
    direct_port: int
    plain_port: int
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_kib(self) -> int:
        """Resident set size of the server process, from /proc."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for pid {self.pid}")

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tracebacks(self) -> int:
        return self.log_text().count("Traceback (most recent call last)")

    @property
    def http_port(self) -> int:
        return int(tomllib.loads(self.config_path.read_text())["http"]["port"])

    async def http_get(self, path: str) -> dict[str, Any]:
        """GET a JSON document from the server's HTTP API with the test API key."""
        import aiohttp

        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as session:
            url = f"http://127.0.0.1:{self.http_port}{path}"
            async with session.get(url, headers={"X-API-Key": API_KEY}) as response:
                document: dict[str, Any] = await response.json(content_type=None)
                return document

    async def metrics(self) -> dict[str, float]:
        """The metrics snapshot (``c2s/Stream errors sent[condition=policy-violation]`` → value)."""
        document = await self.http_get("/api/v1/stats")
        return {key: float(value or 0) for key, value in document["metrics"].items()}


def add_users(config_path: Path, users: Iterable[tuple[str, str]]) -> None:
    """Create accounts through the CLI before the server starts (the SQLite file is then ours alone)."""
    for jid, password in users:
        result = run_cli("--config", config_path, "user", "add", jid, "--password", password)
        if result.returncode != 0:
            raise RuntimeError(f"user add {jid} failed: {result.stderr.strip()}")


def _limit_files(nofile: int) -> Callable[[], None]:
    def limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    return limit


async def add_users_directly(database: Path, users: Iterable[tuple[str, str]]) -> None:
    """Create accounts in the default SQLite file through the storage API (seconds faster than one
    CLI process per account); the server, started afterwards, has the file to itself."""
    from tigase_py.server.storage.engine import open_storage

    storage = await open_storage(f"sqlite+aiosqlite:///{database}", create=True)
    try:
        for jid, password in users:
            local, _, domain = jid.partition("@")
            await storage.users.create(local, domain, password)
    finally:
        await storage.close()


async def wait_for_listener(port: int, process: asyncio.subprocess.Process, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.returncode is not None:
            raise RuntimeError(f"server exited with {process.returncode} before listening")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@contextlib.asynccontextmanager
async def server_process(
    directory: Path,
    extra: str = "",
    users: Iterable[tuple[str, str]] = (("alice@localhost", "secret"), ("bob@localhost", "secret")),
    storage_url: str | None = None,
    nofile: int | None = None,
) -> AsyncIterator[ServerProcess]:
    """Run a server in a child process for the duration of the block; SIGKILL it if SIGTERM is not enough.

    ``nofile`` caps the child's open-files limit (soft and hard), for descriptor-exhaustion tests."""
    config_path, starttls, direct, plain = write_config(directory, ("localhost",), extra, storage_url)
    if storage_url is None:
        await add_users_directly(directory / "tigase.db", users)
    else:
        add_users(config_path, users)
    log_path = directory / "server.log"
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tigase_py.server",
            "--config",
            str(config_path),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=directory,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            preexec_fn=_limit_files(nofile) if nofile is not None else None,
        )
    handle = ServerProcess(process, directory, config_path, starttls, direct, plain, log_path)
    try:
        await wait_for_listener(plain, process)
        yield handle
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), TIMEOUT)
            except TimeoutError:
                process.kill()
                await process.wait()


async def logged_in_raw(port: int, user: str = "alice", password: str = "secret", resource: str = "") -> RawClient:
    """PLAIN on the plaintext loopback listener, then bind; the returned client has an empty buffer."""
    import base64

    raw = await RawClient.connect(port)
    await raw.open_stream()
    token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    await raw.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{token}</auth>")
    await raw.read_until(b"<success")
    raw.received = b""
    await raw.open_stream()
    bind_child = f"<resource>{resource}</resource>" if resource else ""
    await raw.send(f"<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>{bind_child}</bind></iq>")
    await raw.read_until(b"</iq>")
    raw.received = b""
    return raw


@dataclass
class Bystander:
    """A logged-in session that pings the server every 100 ms and keeps every round-trip time."""

    raw: RawClient
    round_trips: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    _stopping: bool = False

    async def _run(self) -> None:
        counter = 0
        while not self._stopping:
            counter += 1
            ping_id = f"by{counter}"
            started = time.perf_counter()
            try:
                await self.raw.send(f"<iq type='get' id='{ping_id}'><ping xmlns='urn:xmpp:ping'/></iq>")
                await self.raw.read_until(f'id="{ping_id}"'.encode(), timeout=TIMEOUT)
            except (OSError, ConnectionError, TimeoutError) as exc:
                self.failures.append(f"{ping_id}: {exc!r}")
                return
            self.round_trips.append(time.perf_counter() - started)
            self.raw.received = b""
            await asyncio.sleep(PING_INTERVAL)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        # A flag as well as cancel(): on Python 3.11 wait_for() can swallow a cancellation that
        # arrives as the read completes, and the loop would ping on for ever.
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=TIMEOUT)
        self.raw.close()

    async def warm_up(self, pings: int = 3, timeout: float = TIMEOUT) -> None:
        """Wait for ``pings`` round trips, then forget them: the figures cover what follows only
        (the first ping after login pays for lazily built server state)."""
        deadline = time.monotonic() + timeout
        while len(self.round_trips) < pings and not self.failures and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self.round_trips.clear()

    def percentile(self, fraction: float) -> float:
        """The round trip (seconds) below which ``fraction`` of the pings fall; inf with no pings."""
        if not self.round_trips:
            return float("inf")
        ordered = sorted(self.round_trips)
        index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
        return ordered[index]

    def p99_ms(self) -> float:
        return self.percentile(0.99) * 1000.0


@contextlib.asynccontextmanager
async def bystander(port: int, user: str = "bob", password: str = "secret") -> AsyncIterator[Bystander]:
    """A pinging bystander for the duration of the block; the test asserts on its figures afterwards."""
    watcher = Bystander(await logged_in_raw(port, user, password, resource="bystander"))
    watcher.start()
    try:
        yield watcher
    finally:
        await watcher.stop()
