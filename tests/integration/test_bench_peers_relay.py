"""bench/relay.py: the trivial relay the generator's ceiling is measured against logs clients in and forwards chat."""

from __future__ import annotations

import asyncio
import base64
import contextlib

from bench import relay
from tests.helpers import free_port

OPEN = (
    b"<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
    b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
)


async def read_until(reader: asyncio.StreamReader, marker: bytes) -> bytes:
    data = b""
    while marker not in data:
        chunk = await asyncio.wait_for(reader.read(65536), 5)
        assert chunk, f"closed before {marker!r}; got {data!r}"
        data += chunk
    return data


async def login(port: int, user: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(OPEN)
    assert b"<mechanism>PLAIN</mechanism>" in await read_until(reader, b"</stream:features>")
    token = base64.b64encode(f"\0{user}\0pw".encode())
    writer.write(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + token + b"</auth>")
    await read_until(reader, b"<success")
    writer.write(OPEN)
    assert b"<bind" in await read_until(reader, b"</stream:features>")
    writer.write(
        b"<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>"
    )
    reply = await read_until(reader, b"</iq>")
    jid = reply[reply.find(b"<jid>") + 5 : reply.find(b"</jid>")]
    return reader, writer, jid


async def test_relay_binds_and_forwards_messages_by_full_and_bare_jid() -> None:
    port = free_port()
    ready = asyncio.Event()
    task = asyncio.create_task(relay.serve("127.0.0.1", port, "localhost", ready, signals=False))
    await asyncio.wait_for(ready.wait(), 5)
    try:
        _, alice, alice_jid = await login(port, "alice")
        bob_reader, bob, bob_jid = await login(port, "bob")
        assert (alice_jid, bob_jid) == (b"alice@localhost/r", b"bob@localhost/r")
        alice.write(b"<presence/><iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>")
        first = b"<message to='bob@localhost/r' type='chat'><body>1</body></message>"
        second = b"<message to='bob@localhost' type='chat'><body>2</body></message>"
        alice.write(first + second[:20])  # a stanza split across writes
        await alice.drain()
        alice.write(second[20:] + b"<message to='nobody@localhost' type='chat'><body>3</body></message>")
        received = await read_until(bob_reader, b"<body>2</body></message>")
        assert received == first + second
        for writer in (alice, bob):
            writer.close()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
