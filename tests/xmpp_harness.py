"""Start a real tigase-py server in the test's event loop, and connect independent clients to it.

Clients are slixmpp (an independent XMPP implementation) for protocol behaviour, and a raw socket
client for wire-level and hostile-input cases.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import slixmpp

from tests.helpers import free_ports
from tigase_py.compat_tests.peers.tigase_py_config import Value, every_transport, render_config
from tigase_py.server.app import serve
from tigase_py.server.config.certs import write_self_signed
from tigase_py.server.config.load import load_config
from tigase_py.server.core.server import Server

TIMEOUT = 15.0


@dataclass
class RunningServer:
    server: Server
    directory: Path
    starttls_port: int
    direct_port: int
    plain_port: int
    stop: asyncio.Event
    task: asyncio.Task[int]
    clients: list[slixmpp.ClientXMPP] = field(default_factory=list)

    async def add_user(self, jid: str, password: str = "secret") -> str:
        local, _, domain = jid.partition("@")
        await self.server.storage.users.create(local, domain, password)
        return jid


def write_config(
    directory: Path,
    vhosts: tuple[str, ...],
    extra: str = "",
    storage_url: str | None = None,
    admins: tuple[str, ...] = (),
    http_options: Mapping[str, Value] | None = None,
) -> tuple[Path, int, int, int]:
    cert, key = write_self_signed(vhosts[0], directory / "certs")
    starttls, direct, plain, http = free_ports(4)
    text = render_config(
        vhosts=vhosts,
        admins=admins,
        log_level="debug",
        storage_url=storage_url or f"sqlite+aiosqlite:///{directory / 'tigase.db'}",
        certificate=cert,
        key=key,
        listeners=every_transport(starttls, direct, plain),
        auth={"allow_plain_without_tls": True},
        http_port=http,
        http={"api_keys": {"tests": "test-api-key-0123456789"}, **(http_options or {})},
        extra=extra,
    )
    path = directory / "tigase.toml"
    path.write_text(text)
    path.chmod(0o600)  # as `init` writes it: status and config check warn about a config others can read
    return path, starttls, direct, plain


@contextlib.asynccontextmanager
async def running_server(
    directory: Path,
    vhosts: tuple[str, ...] = ("localhost",),
    extra: str = "",
    storage_url: str | None = None,
    admins: tuple[str, ...] = (),
    http_options: Mapping[str, Value] | None = None,
) -> AsyncIterator[RunningServer]:
    """A server in this process; ``http_options`` add to (or replace) the keys of its ``[http]`` table."""
    path, starttls, direct, plain = write_config(directory, vhosts, extra, storage_url, admins, http_options)
    config = load_config(path)
    ready: asyncio.Future[Server] = asyncio.get_running_loop().create_future()
    stop = asyncio.Event()
    task = asyncio.get_running_loop().create_task(
        serve(config, ready=ready.set_result, stop=stop, signals=False)
    )
    done, _ = await asyncio.wait([ready, task], timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        stop.set()
        raise RuntimeError(f"server did not start: {task.result() if task.done() else 'timeout'}")
    handle = RunningServer(ready.result(), directory, starttls, direct, plain, stop, task)
    try:
        yield handle
    finally:
        for client in handle.clients:
            client.disconnect()
        stop.set()
        await asyncio.wait_for(task, TIMEOUT)


def insecure_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class Client(slixmpp.ClientXMPP):
    """A slixmpp client that records what it receives."""

    def __init__(self, jid: str, password: str, plugins: tuple[str, ...] = ()) -> None:
        super().__init__(jid, password)
        self.ssl_context = insecure_context()
        for plugin in ("xep_0030", "xep_0199", *plugins):
            self.register_plugin(plugin)
        self.messages: asyncio.Queue[slixmpp.Message] = asyncio.Queue()
        self.presences: asyncio.Queue[slixmpp.Presence] = asyncio.Queue()
        self.started: asyncio.Future[None] = asyncio.get_event_loop().create_future()
        self.failed: asyncio.Future[str] = asyncio.get_event_loop().create_future()
        self.add_event_handler("session_start", self._on_start)
        self.add_event_handler("message", self._on_message)
        self.add_event_handler("presence", self._on_presence)
        self.add_event_handler("failed_auth", lambda *_: self._fail("failed_auth"))
        self.add_event_handler("stream_error", lambda err: self._fail(f"stream_error:{err['condition']}"))

    def _fail(self, reason: str) -> None:
        if not self.failed.done():
            self.failed.set_result(reason)

    async def _on_start(self, _event: Any) -> None:
        if not self.started.done():
            self.started.set_result(None)

    def _on_message(self, message: slixmpp.Message) -> None:
        self.messages.put_nowait(message)

    def _on_presence(self, presence: slixmpp.Presence) -> None:
        self.presences.put_nowait(presence)

    async def next_message(self, timeout: float = TIMEOUT) -> slixmpp.Message:
        return await asyncio.wait_for(self.messages.get(), timeout)

    async def wait_presence(
        self, match: Callable[[slixmpp.Presence], bool], timeout: float = TIMEOUT
    ) -> slixmpp.Presence:
        async def find() -> slixmpp.Presence:
            while True:
                presence = await self.presences.get()
                if match(presence):
                    return presence

        return await asyncio.wait_for(find(), timeout)


async def login(
    handle: RunningServer,
    jid: str,
    password: str = "secret",
    mode: str = "starttls",
    plugins: tuple[str, ...] = (),
    send_presence: bool = True,
    mechanism: str | None = None,
) -> Client:
    client = Client(jid, password, plugins)
    if mechanism is not None:
        client.plugin["feature_mechanisms"].use_mech = mechanism
    if mode == "direct":
        client.enable_starttls = False
        client.enable_direct_tls = True
        client.connect("127.0.0.1", handle.direct_port)
    elif mode == "plain":
        client.enable_starttls = False
        client.enable_direct_tls = False
        client.enable_plaintext = True
        client.connect("127.0.0.1", handle.plain_port)
    else:
        client.enable_direct_tls = False
        client.connect("127.0.0.1", handle.starttls_port)
    handle.clients.append(client)
    done, _ = await asyncio.wait([client.started, client.failed], timeout=TIMEOUT, return_when="FIRST_COMPLETED")
    if client.started not in done:
        reason = client.failed.result() if client.failed.done() else "timeout"
        raise AssertionError(f"login of {jid} failed: {reason}")
    if send_presence:
        client.send_presence()
    return client


class RawClient:
    """A byte-level client for wire tests: send exactly what the test says, read what comes back."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.received = b""

    @classmethod
    async def connect(cls, port: int) -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        return cls(reader, writer)

    async def send(self, data: bytes | str) -> None:
        self.writer.write(data.encode() if isinstance(data, str) else data)
        await self.writer.drain()

    async def open_stream(self, domain: str = "localhost") -> None:
        await self.send(
            f"<?xml version='1.0'?><stream:stream to='{domain}' xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
        )
        await self.read_until(b"</stream:features>")

    async def read_until(self, marker: bytes, timeout: float = TIMEOUT) -> bytes:
        async def read() -> bytes:
            while marker not in self.received:
                chunk = await self.reader.read(65536)
                if not chunk:
                    raise ConnectionError(f"closed before {marker!r}; got {self.received[-500:]!r}")
                self.received += chunk
            return self.received

        return await asyncio.wait_for(read(), timeout)

    async def read_to_close(self, timeout: float = TIMEOUT) -> bytes:
        async def read() -> bytes:
            while True:
                chunk = await self.reader.read(65536)
                if not chunk:
                    return self.received
                self.received += chunk

        return await asyncio.wait_for(read(), timeout)

    def close(self) -> None:
        self.writer.close()
