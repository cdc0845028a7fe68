"""CPU per one-to-one message on the c2s path, in one process, no sockets:
``python3 bench/c2s_path.py [--messages 20000] [--rounds 5]``.

Two clients (PLAIN, bound) on fake transports; batches of ten ``<message/>`` go into alice's
``data_received`` and come out as bytes written to bob's transport, through the real parser, stream,
router and writer. Prints the process CPU time per message of each round and the best round: a cheap,
steady before/after figure for changes on the hot path (``bench/run.py`` measures the same path over
TCP, with the load generator sharing the machine's cores).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tigase_py.server.config.load import config_from_dict  # noqa: E402
from tigase_py.server.core.server import Server  # noqa: E402
from tigase_py.server.net.c2s import C2SConnection, stream_services  # noqa: E402
from tigase_py.server.storage.engine import open_storage  # noqa: E402

HEADER = (
    b"<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' "
    b"xmlns:stream='http://etherx.jabber.org/streams'>"
)
BIND = b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>"
MESSAGE = b"<message to='bob@localhost/r' type='chat' id='m'><body>hello bob, how are you?</body></message>"


class CountingTransport:
    """Just enough of asyncio.Transport: counts the bytes written."""

    def __init__(self) -> None:
        self.written = 0
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += len(data)

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


async def settle(server: Server, connection: C2SConnection) -> None:
    """Run the loop until the connection's stanza worker and the server's tasks are idle."""
    for _ in range(1000):
        await asyncio.sleep(0)
        worker = connection.stream._worker
        pending = [t for t in (worker, *server.tasks) if t is not None and not t.done()]
        if not pending:
            return
        await asyncio.wait(pending, timeout=5)
    raise RuntimeError("the connection did not settle")


async def logged_in(server: Server, user: str) -> tuple[C2SConnection, CountingTransport]:
    listener = server.config.listeners[0]
    connection = C2SConnection(server, stream_services(server, listener, None), listener, None, False)
    transport = CountingTransport()
    connection.connection_made(transport)  # type: ignore[arg-type]
    plain = base64.b64encode(f"\0{user}\0secret".encode())
    auth = b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + plain + b"</auth>"
    for chunk in (HEADER, auth, HEADER, BIND, b"<presence/>"):
        connection.data_received(chunk)
        await settle(server, connection)
    if connection.session is None:
        raise RuntimeError(f"{user} did not log in")
    return connection, transport


async def measure(messages: int, rounds: int) -> float:
    directory = tempfile.mkdtemp(prefix="c2s-path-")
    config = config_from_dict(
        {
            "server": {"vhosts": ["localhost"], "log_level": "error"},
            "storage": {"url": f"sqlite+aiosqlite:///{directory}/bench.db"},
            "listeners": [{"type": "c2s", "tls": "none", "require_tls": False, "port": 5222}],
            "auth": {"allow_plain_without_tls": True},
        },
        Path(directory) / "tigase.toml",
    )
    storage = await open_storage(config.storage.url, create=True)
    for user in ("alice", "bob"):
        await storage.users.create(user, "localhost", "secret")
    server = Server(config, storage)
    await server.add_vhost("localhost")
    alice, _ = await logged_in(server, "alice")
    _, bob = await logged_in(server, "bob")
    batch = MESSAGE * 10
    best = float("inf")
    for number in range(rounds):
        before, started = bob.written, time.process_time()
        for _ in range(messages // 10):
            alice.data_received(batch)
            await settle(server, alice)
        await asyncio.sleep(0)  # the last flush
        per_message = (time.process_time() - started) / messages * 1e6
        best = min(best, per_message)
        print(f"round {number + 1}: {per_message:.2f} µs CPU per message, bob got {bob.written - before} bytes")
    await storage.close()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--messages", type=int, default=20000, help="messages per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    best = asyncio.run(measure(args.messages, args.rounds))
    print(f"best: {best:.2f} µs CPU per message")


if __name__ == "__main__":
    main()
