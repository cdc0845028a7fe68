"""The c2s negotiation (server/stream/c2s.py) driven without TCP: a real server core (SQLite in a
temp dir, the ping and register modules) and an in-memory transport, fed the events any transport
(TCP today, BOSH and WebSocket later) produces: stream opened, element received, TLS established."""

from __future__ import annotations

import ast
import asyncio
import base64
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import scramp

from tigase_py.server.config.load import config_from_dict
from tigase_py.server.core.server import Server
from tigase_py.server.errors import StreamError
from tigase_py.server.storage.engine import open_storage
from tigase_py.server.stream.c2s import C2SStream
from tigase_py.server.stream.services import StreamServices
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element
from tigase_py.server.xml.fragment import parse_fragment

STREAM_ATTRS = {"to": "localhost", "version": "1.0", "xmlns": ns.CLIENT}
BIND = "<iq type='set' id='b1' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>{}</bind></iq>"


class MemoryTransport:
    """A StreamTransport that records what the stream asks for."""

    def __init__(self) -> None:
        self.peer = "198.51.100.7:40000"
        self.closing = False
        self.out: list[bytes] = []
        self.headers: list[str | None] = []
        self.error: str | None = None
        self.calls: list[str] = []

    def open_stream(self, frm: str | None) -> None:
        self.headers.append(frm)

    def write(self, data: bytes) -> None:
        assert not self.closing
        self.out.append(data)

    def send_stanza(self, stanza: Element) -> None:
        self.write(stanza.to_bytes())

    def start_tls(self) -> None:
        self.calls.append("start_tls")

    def restart(self, authenticated: bool) -> None:
        self.calls.append(f"restart authenticated={authenticated}")

    def session_bound(self) -> None:
        self.calls.append("session_bound")

    def hold_input(self) -> None:
        self.calls.append("hold_input")

    def release_input(self) -> None:
        self.calls.append("release_input")

    def begin_processing(self) -> None:
        return None

    def close(self) -> None:
        self.closing = True

    def close_with_error(self, condition: str, text: str = "", app_condition: Element | None = None) -> None:
        if self.error is None:
            self.error = condition
        self.closing = True

    def take(self) -> str:
        data, self.out = b"".join(self.out).decode(), []
        return data


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    config = config_from_dict(
        {
            "server": {"vhosts": ["localhost"], "log_level": "error"},
            "listeners": [{"type": "c2s", "tls": "none", "require_tls": False, "port": 5222}],
            "storage": {"url": f"sqlite+aiosqlite:///{tmp_path}/c2s.db"},
            "auth": {"allow_plain_without_tls": True, "mechanisms": ["SCRAM-SHA-1", "PLAIN"]},
            "modules": {"enabled": ["ping", "register"]},
            "vhosts": {"localhost": {"registration": True}},
        },
        tmp_path / "tigase.toml",
    )
    storage = await open_storage(config.storage.url, create=True)
    await storage.users.create("alice", "localhost", "secret")
    core = Server(config, storage)
    await core.add_vhost("localhost")
    yield core
    await storage.close()


def open_stream(
    server: Server, *, starttls: bool = False, require_tls: bool = False, secure: bool = False, to: str = "localhost"
) -> tuple[C2SStream, MemoryTransport]:
    services = StreamServices(
        config=server.config, vhosts=server.vhosts, storage=server.storage, sessions=server.sessions,
        router=server.router, bus=server.bus, registry=server.registry, login_guard=server.login_guard,
        stats=server.stats, track=server.track, auth_failed=lambda: None,
        starttls=starttls, require_tls=require_tls, channel_binding=b"cert" if starttls else None,
    )  # fmt: skip
    transport = MemoryTransport()
    stream = C2SStream(services, transport, secure=secure)
    stream.stream_opened("stream:stream", ns.STREAM, {**STREAM_ATTRS, "to": to})
    return stream, transport


async def send(stream: C2SStream, xml: str) -> None:
    """Feed one element and wait until the stream has processed everything queued."""
    stream.stanza_received(parse_fragment(xml))
    for _ in range(100):
        worker = stream._worker
        if worker is None or worker.done():
            return
        await asyncio.wait([worker], timeout=5)
    raise AssertionError("the stream did not settle")


def auth(mechanism: str, data: bytes) -> str:
    return f"<auth xmlns='{ns.SASL}' mechanism='{mechanism}'>{base64.b64encode(data).decode() or '='}</auth>"


def decoded(reply: str, tag: str) -> str:
    return base64.b64decode(parse_fragment(reply).text).decode() if f"<{tag} " in reply else ""


async def bind_and_ping(stream: C2SStream, transport: MemoryTransport) -> None:
    """Restart → bind features → bind → a ping routed to the ping module and answered."""
    stream.stream_opened("stream:stream", ns.STREAM, STREAM_ATTRS)
    features = transport.take()
    assert ns.BIND in features and ns.SASL not in features
    await send(stream, BIND.format("<resource>phone</resource>"))
    assert "<jid>alice@localhost/phone</jid>" in transport.take()
    assert transport.calls[-1] == "session_bound" and stream.session is not None
    await send(stream, "<iq type='get' id='p1' to='localhost' xmlns='jabber:client'><ping xmlns='urn:xmpp:ping'/></iq>")
    reply = parse_fragment(transport.take())
    assert (reply.get("type"), reply.get("id"), reply.get("to")) == ("result", "p1", "alice@localhost/phone")


async def test_plain_login_bind_and_a_stanza_without_tcp(server: Server) -> None:
    stream, transport = open_stream(server)
    assert transport.headers == ["localhost"]
    features = transport.take()
    assert "<mechanism>SCRAM-SHA-1</mechanism><mechanism>PLAIN</mechanism>" in features
    assert "http://jabber.org/features/iq-register" in features and "<max-bytes>16384</max-bytes>" in features
    await send(stream, auth("PLAIN", b"\0alice\0secret"))
    assert "<success " in transport.take()
    assert transport.calls == ["restart authenticated=True"] and stream.username == "alice"
    await bind_and_ping(stream, transport)
    stream.transport_closed()
    await asyncio.wait(list(server.tasks), timeout=5)
    assert server.sessions.count == 0


async def test_scram_sha1_login_bind_and_a_stanza_without_tcp(server: Server) -> None:
    stream, transport = open_stream(server)
    transport.take()
    client = scramp.ScramClient(["SCRAM-SHA-1"], "alice", "secret")
    await send(stream, auth("SCRAM-SHA-1", client.get_client_first().encode()))
    client.set_server_first(decoded(transport.take(), "challenge"))
    final = base64.b64encode(client.get_client_final().encode()).decode()
    await send(stream, f"<response xmlns='{ns.SASL}'>{final}</response>")
    client.set_server_final(decoded(transport.take(), "success"))  # raises unless the server proved the key
    assert stream.username == "alice"
    await bind_and_ping(stream, transport)


async def test_starttls_then_login_over_the_upgraded_stream(server: Server) -> None:
    stream, transport = open_stream(server, starttls=True, require_tls=True)
    features = transport.take()
    assert "<required/>" in features and ns.SASL not in features and "iq-register" not in features
    await send(stream, f"<starttls xmlns='{ns.TLS}'/>")
    assert "<proceed " in transport.take() and transport.calls == ["start_tls"]
    stream.tls_established()
    stream.stream_opened("stream:stream", ns.STREAM, STREAM_ATTRS)
    features = transport.take()
    assert ns.TLS not in features and "<mechanism>PLAIN</mechanism>" in features and "sasl-channel-binding" in features
    await send(stream, auth("PLAIN", b"\0alice\0secret"))
    assert "<success " in transport.take()
    await bind_and_ping(stream, transport)
    assert stream.session is not None and stream.session.secure


async def test_wrong_password_fails_and_the_stream_stays_open(server: Server) -> None:
    stream, transport = open_stream(server)
    transport.take()
    await send(stream, auth("PLAIN", b"\0alice\0wrong"))
    assert "<not-authorized/>" in transport.take() and not transport.closing and stream.username is None
    client = scramp.ScramClient(["SCRAM-SHA-1"], "alice", "wrong")
    await send(stream, auth("SCRAM-SHA-1", client.get_client_first().encode()))
    client.set_server_first(decoded(transport.take(), "challenge"))
    final = base64.b64encode(client.get_client_final().encode()).decode()
    await send(stream, f"<response xmlns='{ns.SASL}'>{final}</response>")
    assert "<not-authorized/>" in transport.take() and stream.username is None
    await send(stream, auth("DIGEST-MD5", b""))
    assert "<invalid-mechanism/>" in transport.take()
    assert server.stats.auth_failure.labels("PLAIN").value == 1
    assert server.stats.auth_failure.labels("SCRAM-SHA-1").value == 1 and not transport.closing


async def test_bind_refusals(server: Server) -> None:
    stream, transport = open_stream(server)
    await send(stream, BIND.format(""))
    assert transport.error == "not-authorized"  # bind before SASL
    stream, transport = open_stream(server)
    await send(stream, auth("PLAIN", b"\0alice\0secret"))
    stream.stream_opened("stream:stream", ns.STREAM, STREAM_ATTRS)
    transport.take()
    await send(stream, BIND.format("<resource>bad\u200bresource</resource>"))
    assert "<bad-request " in transport.take() and stream.session is None and not transport.closing
    await send(stream, f"<iq type='set' id='s' xmlns='jabber:client'><session xmlns='{ns.SESSION}'/></iq>")
    assert transport.error == "not-authorized"  # a session request before bind


@pytest.mark.parametrize(
    ("attrs", "condition"),
    [
        ({**STREAM_ATTRS, "version": "0.9"}, "unsupported-version"),
        ({k: v for k, v in STREAM_ATTRS.items() if k != "version"}, "unsupported-version"),
        ({**STREAM_ATTRS, "to": "elsewhere.example"}, "host-unknown"),
        ({k: v for k, v in STREAM_ATTRS.items() if k != "to"}, "improper-addressing"),
        ({**STREAM_ATTRS, "xmlns": "jabber:server"}, "invalid-namespace"),
    ],
)
async def test_bad_stream_headers_are_refused_after_our_header(
    server: Server, attrs: dict[str, str], condition: str
) -> None:
    stream, transport = open_stream(server)
    transport.take()
    with pytest.raises(StreamError) as refused:
        stream.stream_opened("stream:stream", ns.STREAM, attrs)
    assert refused.value.condition == condition and len(transport.headers) == 2 and transport.out == []


@pytest.mark.parametrize("require_tls", [False, True])
async def test_a_stanza_before_login_closes_the_stream(server: Server, require_tls: bool) -> None:
    stream, transport = open_stream(server, starttls=require_tls, require_tls=require_tls)
    await send(stream, "<message to='bob@localhost' xmlns='jabber:client'><body>hi</body></message>")
    assert transport.error == ("policy-violation" if require_tls else "not-authorized")
    assert server.sessions.count == 0


def register_iq(iq_type: str, payload: str = "") -> str:
    return f"<iq type='{iq_type}' id='r' xmlns='jabber:client'><query xmlns='{ns.REGISTER}'>{payload}</query></iq>"


async def test_registration_through_the_module_pre_auth_contract(server: Server) -> None:
    stream, transport = open_stream(server)
    transport.take()
    await send(stream, register_iq("get"))
    assert "<instructions>" in transport.take()
    creds = "<username>newbie</username><password>s3cret</password>"
    await send(stream, register_iq("set", creds))
    assert "type='result'" in transport.take().replace('"', "'")
    assert await server.storage.users.verify_password("newbie", "localhost", "s3cret")
    await send(stream, register_iq("set", creds))
    assert "<conflict " in transport.take() and not transport.closing
    for attempt in range(3):  # registrations_per_ip = 5 per hour, counted per client address
        await send(stream, register_iq("set", f"<username>more{attempt}</username><password>pw</password>"))
        assert "type='result'" in transport.take().replace('"', "'")
    await send(stream, register_iq("set", "<username>six</username><password>pw</password>"))
    assert "<resource-constraint " in transport.take()
    assert not await server.storage.users.exists("six", "localhost")


async def test_registration_is_not_offered_where_the_vhost_disables_it(server: Server) -> None:
    await server.add_vhost("closed.example")
    stream, transport = open_stream(server, to="closed.example")
    assert "iq-register" not in transport.take()
    await send(stream, register_iq("set", "<username>x</username><password>y</password>"))
    assert "<service-unavailable " in transport.take() and not transport.closing
    assert not await server.storage.users.exists("x", "closed.example")


async def test_registration_needs_tls_where_the_listener_requires_it(server: Server) -> None:
    stream, transport = open_stream(server, starttls=True, require_tls=True)
    await send(stream, f"<iq type='get' id='r1' xmlns='jabber:client'><query xmlns='{ns.REGISTER}'/></iq>")
    assert transport.error == "policy-violation"


def test_stream_never_imports_a_module() -> None:
    """Layering: server/stream → server/core, never server/modules (pre-auth features come through
    the registry)."""
    stream_dir = Path(__file__).resolve().parents[2] / "server" / "stream"
    for path in sorted(stream_dir.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            assert not any(".server.modules" in name for name in names), f"{path.name} imports {names}"
    code = (
        "import sys, tigase_py.server.stream.c2s, tigase_py.server.net.c2s;"
        "print([m for m in sys.modules if m.startswith('tigase_py.server.modules')])"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert loaded.stdout.strip() == "[]"
