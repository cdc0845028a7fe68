"""Coverage-guided fuzzing of c2s negotiation with atheris (outside CI; pytest does not collect it).

    pip install atheris
    python tests/fuzz/atheris_c2s.py -atheris_runs=100000 [-max_len=2048] [CORPUS_DIR]

A real server object (SQLite storage in a temp dir, one vhost ``localhost``, user alice/secret, PLAIN
allowed without TLS) and one :class:`C2SConnection` per input on a fake transport: no sockets. Each
input chooses how far a well-behaved client gets first (nothing, stream header, PLAIN auth, stream
restart, resource bind), then its remaining bytes go in as reads split where it says, and the event
loop runs until the connection's work is done after every read. It fails when anything is logged at
ERROR (an exception in stanza handling or a background task) or reaches the loop's exception handler.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

with atheris.instrument_imports(
    include=["tigase_py.server.stream", "tigase_py.server.net.c2s", "tigase_py.server.xml", "tigase_py.server.jid"]
):
    from tigase_py.server.net.c2s import C2SConnection, stream_services

from tests.fuzz.recording import HEADER, cut
from tigase_py.server.config.load import config_from_dict
from tigase_py.server.core.server import Server
from tigase_py.server.storage.engine import open_storage

AUTH = (
    b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
    + base64.b64encode(b"\0alice\0secret")
    + b"</auth>"
)
BIND = b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>"
SCRIPTS: list[list[bytes]] = [[], [HEADER], [HEADER, AUTH], [HEADER, AUTH, HEADER], [HEADER, AUTH, HEADER, BIND]]


class FakeTransport:
    """Just enough of asyncio.Transport for a C2SConnection."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.out += data

    def writelines(self, lines: list[bytes]) -> None:
        for line in lines:
            self.write(line)

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def pause_reading(self) -> None:
        return None

    def resume_reading(self) -> None:
        return None

    def get_write_buffer_size(self) -> int:
        return 0

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        return None


class Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


FAILURES = Failures()
LOOP = asyncio.new_event_loop()
DIRECTORY = tempfile.mkdtemp(prefix="atheris-c2s-")


async def build_server() -> Server:
    path = Path(DIRECTORY) / "tigase.toml"
    config = config_from_dict(
        {
            "server": {"vhosts": ["localhost"], "log_level": "error"},
            "storage": {"url": f"sqlite+aiosqlite:///{DIRECTORY}/fuzz.db"},
            "listeners": [{"type": "c2s", "tls": "none", "require_tls": False, "port": 5222}],
            "auth": {"allow_plain_without_tls": True},
        },
        path,
    )
    storage = await open_storage(config.storage.url, create=True)
    await storage.users.create("alice", "localhost", "secret")
    server = Server(config, storage)
    await server.add_vhost("localhost")
    return server


SERVER = LOOP.run_until_complete(build_server())
LISTENER = SERVER.config.listeners[0]
SERVICES = stream_services(SERVER, LISTENER, None)


async def settle(connection: C2SConnection) -> None:
    """Run the loop until the connection's stanza worker and the server's tasks are idle."""
    for _ in range(50):
        await asyncio.sleep(0)
        pending = [task for task in (connection.stream._worker, *SERVER.tasks) if task is not None and not task.done()]
        if not pending:
            return
        await asyncio.wait(pending, timeout=2.0)
    raise AssertionError("connection work did not settle")


async def drive(script: list[bytes], chunks: list[bytes]) -> None:
    connection = C2SConnection(SERVER, SERVICES, LISTENER, None, False)
    transport = FakeTransport()
    connection.connection_made(transport)  # type: ignore[arg-type]
    for chunk in [*script, *chunks]:
        if transport.closed:
            break
        connection.data_received(chunk)
        await settle(connection)
    connection.connection_lost(None)
    await settle(connection)


def test_one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    script = SCRIPTS[provider.ConsumeIntInRange(0, len(SCRIPTS) - 1)]
    points = [provider.ConsumeIntInRange(0, 2048) for _ in range(provider.ConsumeIntInRange(0, 6))]
    payload = provider.ConsumeBytes(provider.remaining_bytes())
    LOOP.run_until_complete(drive(script, cut(payload, points) if payload else []))
    if FAILURES.records:
        message = "\n".join(FAILURES.records)
        FAILURES.records.clear()
        raise AssertionError(f"logged at ERROR for {data!r}:\n{message}")


def on_loop_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    FAILURES.records.append(f"loop: {context.get('message')} {context.get('exception')!r}")


def main() -> None:
    logging.getLogger().addHandler(FAILURES)
    logging.getLogger().setLevel(logging.ERROR)
    LOOP.set_exception_handler(on_loop_exception)
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
