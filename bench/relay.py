"""A trivial XMPP-shaped relay: the fastest "server" the load generator can be pointed at.

``python3 bench/relay.py --port 5299 [--domain localhost]`` answers just enough for a client login
(stream header, features, SASL PLAIN accepted without a password check, resource bind, an empty
result to any other IQ) and forwards each ``<message to='JID'>…</message>`` byte for byte to the
connection bound to that JID (full or bare). Presence is dropped. No XML parser, no routing logic, no
storage: whatever rate it sustains is the ceiling of the machine, not of an XMPP server, so a load
generator measured against it shows its own limit (``bench/relay_ceiling.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import re
import signal

NS_SASL = b"urn:ietf:params:xml:ns:xmpp-sasl"
_ID = re.compile(rb"""id=['"]([^'"]*)['"]""")
_TO = re.compile(rb"""to=['"]([^'"]*)['"]""")
_NAME = re.compile(rb"<([A-Za-z][\w:.-]*)")


def header(domain: str) -> bytes:
    return (
        f"<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'"
        f" from='{domain}' id='relay' version='1.0'>"
    ).encode()


class Relay:
    """Bound connections by full and bare JID."""

    def __init__(self, domain: str) -> None:
        self.domain = domain
        self.by_jid: dict[bytes, RelayConnection] = {}
        self.connections = 0

    def bind(self, jid: bytes, conn: RelayConnection) -> None:
        self.by_jid[jid] = conn
        self.by_jid[jid.partition(b"/")[0]] = conn

    def unbind(self, conn: RelayConnection) -> None:
        for key in [k for k, v in self.by_jid.items() if v is conn]:
            del self.by_jid[key]


class RelayConnection(asyncio.Protocol):
    def __init__(self, relay: Relay) -> None:
        self.relay = relay
        self.buffer = b""
        self.user = b""
        self.authenticated = False
        self.transport: asyncio.WriteTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport (uvloop's is not a subclass)
        self.relay.connections += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.relay.connections -= 1
        self.relay.unbind(self)

    def write(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        buf = self.buffer + data if self.buffer else data
        out: dict[RelayConnection, list[bytes]] = {}
        pos, size = 0, len(buf)
        while pos < size:
            start = buf.find(b"<", pos)
            if start < 0:
                pos = size
                break
            if buf.startswith(b"<message", start):
                end = buf.find(b"</message>", start)
                if end < 0:
                    break
                end += 10
                head = buf[start : buf.find(b">", start)]
                to = _TO.search(head)
                target = self.relay.by_jid.get(to.group(1)) if to else None
                if target is not None:
                    out.setdefault(target, []).append(buf[start:end])
                pos = end
                continue
            end = self._control(buf, start)
            if end < 0:
                break
            pos = end
        self.buffer = buf[pos:]
        for target, chunks in out.items():
            target.write(b"".join(chunks))

    def _control(self, buf: bytes, start: int) -> int:
        """Handle one non-message element at ``start``; return the position after it, -1 when incomplete."""
        if buf.startswith(b"<?xml", start):
            end = buf.find(b"?>", start)
            return -1 if end < 0 else end + 2
        if buf.startswith(b"<stream:stream", start):
            end = buf.find(b">", start)
            if end < 0:
                return -1
            self.write(header(self.relay.domain) + self._features())
            return end + 1
        if buf.startswith(b"</stream:stream>", start):
            self.write(b"</stream:stream>")
            if self.transport is not None:
                self.transport.close()
            return start + 16
        named = _NAME.match(buf, start)
        if named is None or named.end() >= len(buf):
            return -1
        name = named.group(1)
        open_end = buf.find(b">", start)
        if open_end < 0:
            return -1
        if buf[open_end - 1 : open_end] == b"/":
            end = open_end + 1
        else:
            close = buf.find(b"</" + name + b">", open_end)
            if close < 0:
                return -1
            end = close + len(name) + 3
        self._element(name, buf[start:end])
        return end

    def _features(self) -> bytes:
        if not self.authenticated:
            return (
                b"<stream:features><mechanisms xmlns='" + NS_SASL + b"'><mechanism>PLAIN</mechanism></mechanisms>"
                b"</stream:features>"
            )
        return (
            b"<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
            b"<session xmlns='urn:ietf:params:xml:ns:xmpp-session'><optional/></session></stream:features>"
        )

    def _element(self, name: bytes, element: bytes) -> None:
        if name == b"auth":
            text = element[element.find(b">") + 1 : element.rfind(b"<")]
            with contextlib.suppress(ValueError):
                self.user = base64.b64decode(text).split(b"\0")[1]
            self.authenticated = True
            self.write(b"<success xmlns='" + NS_SASL + b"'/>")
        elif name == b"iq":
            found = _ID.search(element[: element.find(b">")])
            stanza_id = found.group(1) if found else b""
            if b"<bind" in element:
                i = element.find(b"<resource>")
                resource = element[i + 10 : element.find(b"</resource>")] if i >= 0 else b"relay"
                jid = self.user + b"@" + self.relay.domain.encode() + b"/" + resource
                self.relay.bind(jid, self)
                self.write(
                    b"<iq type='result' id='" + stanza_id + b"'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>"
                    + jid + b"</jid></bind></iq>"
                )  # fmt: skip
            else:
                self.write(b"<iq type='result' id='" + stanza_id + b"'/>")
        # presence and anything else: dropped


async def serve(host: str, port: int, domain: str, ready: asyncio.Event | None = None, signals: bool = True) -> None:
    relay = Relay(domain)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: RelayConnection(relay), host, port, backlog=1024)
    stop = asyncio.Event()
    if signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    if ready is not None:
        ready.set()
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--domain", default="localhost")
    args = parser.parse_args()
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    import uvloop

    uvloop.run(serve(args.host, args.port, args.domain))


if __name__ == "__main__":
    main()
