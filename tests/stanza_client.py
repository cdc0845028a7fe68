"""A minimal XMPP client for fault tests: PLAIN on a plaintext loopback listener, bind, then stanzas.

It parses what it receives with the standard library's `XMLPullParser` (not the server's parser),
keeps every received message, and matches IQ replies to requests by id. It never reconnects: when
the server goes away, `closed` is set and the recorded messages stay readable.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import time
from xml.etree import ElementTree

CLIENT = "jabber:client"
STREAM_OPEN = (
    "<?xml version='1.0'?><stream:stream to='{domain}' xmlns='jabber:client' "
    "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
)
SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
TIMEOUT = 15.0


def local(tag: str) -> str:
    return tag.rpartition("}")[2]


def error_condition(stanza: ElementTree.Element) -> tuple[str, str] | None:
    """(type, condition) of a stanza's `<error/>`, or None."""
    for child in stanza:
        if local(child.tag) == "error":
            conditions = [local(c.tag) for c in child if local(c.tag) != "text"]
            return child.get("type", ""), (conditions[0] if conditions else "")
    return None


class StanzaClient:
    """One bound session; `messages` holds every `<message/>` received, in order."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, domain: str) -> None:
        self.reader = reader
        self.writer = writer
        self.domain = domain
        self.jid = ""
        self.messages: list[ElementTree.Element] = []
        self.arrived_at: dict[str, float] = {}  # message id → time.monotonic() at its arrival
        self.closed = asyncio.Event()
        self.arrived = asyncio.Event()  # set on every message; clear it before waiting for the next
        self._parser = ElementTree.XMLPullParser(events=("start", "end"))
        self._depth = 0
        self._root: ElementTree.Element | None = None
        self._top: asyncio.Queue[ElementTree.Element] = asyncio.Queue()
        self._replies: dict[str, asyncio.Future[ElementTree.Element]] = {}
        self._ids = itertools.count(1)
        self._reader_task: asyncio.Task[None] | None = None

    @classmethod
    async def login(cls, port: int, jid: str, password: str = "secret", resource: str = "fault") -> StanzaClient:
        user, _, domain = jid.partition("@")
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer, domain)
        client._reader_task = asyncio.get_running_loop().create_task(client._read())
        try:
            await asyncio.wait_for(client._negotiate(user, password, resource), TIMEOUT)
        except BaseException:
            await client.close()
            raise
        return client

    async def _negotiate(self, user: str, password: str, resource: str) -> None:
        self._restart()
        await self._next_top("features")
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        self.writer.write(f"<auth xmlns='{SASL}' mechanism='PLAIN'>{token}</auth>".encode())
        outcome = await self._next_top("success", "failure")
        if local(outcome.tag) != "success":
            raise ConnectionError(f"authentication failed: {[local(c.tag) for c in outcome]}")
        self._restart()
        await self._next_top("features")
        bound = await self.request(
            f"<iq type='set' id='{{id}}'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
            f"<resource>{resource}</resource></bind></iq>"
        )
        self.jid = "".join(bound.itertext())

    def _restart(self) -> None:
        self._parser = ElementTree.XMLPullParser(events=("start", "end"))
        self._depth = 0
        self.writer.write(STREAM_OPEN.format(domain=self.domain).encode())

    async def _next_top(self, *names: str) -> ElementTree.Element:
        while True:
            element = await self._top.get()
            if local(element.tag) in names:
                return element

    async def _read(self) -> None:
        try:
            while data := await self.reader.read(65536):
                self._parser.feed(data)
                for event, element in self._parser.read_events():
                    if event == "start":
                        self._depth += 1
                        if self._depth == 1:
                            self._root = element
                        continue
                    self._depth -= 1
                    if self._depth == 1 and self._root is not None:
                        self._root.remove(element)  # the stream element would keep every stanza
                        self._dispatch(element)
        except (ConnectionError, ElementTree.ParseError):
            pass
        finally:
            self.closed.set()
            for future in self._replies.values():
                if not future.done():
                    future.set_exception(ConnectionError("connection closed"))
                    future.exception()  # retrieved: a reply nobody waits for is not worth a warning

    def _dispatch(self, element: ElementTree.Element) -> None:
        name = local(element.tag)
        if name == "message":
            self.messages.append(element)
            self.arrived_at.setdefault(element.get("id", ""), time.monotonic())
            self.arrived.set()
        elif name == "iq" and element.get("type") in ("result", "error"):
            future = self._replies.pop(element.get("id", ""), None)
            if future is not None and not future.done():
                future.set_result(element)
        elif name != "presence":
            self._top.put_nowait(element)

    # -- after login ----------------------------------------------------------------------------------
    def send(self, xml: str) -> None:
        self.writer.write(xml.encode())

    def send_iq(self, template: str) -> tuple[str, asyncio.Future[ElementTree.Element]]:
        """Send an IQ whose template holds `{id}`; return its id and the future of its reply."""
        stanza_id = f"q{next(self._ids)}"
        future: asyncio.Future[ElementTree.Element] = asyncio.get_running_loop().create_future()
        self._replies[stanza_id] = future
        self.send(template.replace("{id}", stanza_id))
        return stanza_id, future

    async def request(self, template: str, timeout: float = TIMEOUT) -> ElementTree.Element:
        _, future = self.send_iq(template)
        return await asyncio.wait_for(future, timeout)

    def ping(self) -> asyncio.Future[ElementTree.Element]:
        """A server ping: its reply comes after everything sent before it was handled (in order)."""
        return self.send_iq(f"<iq type='get' id='{{id}}' to='{self.domain}'><ping xmlns='urn:xmpp:ping'/></iq>")[1]

    def message_ids(self) -> list[str]:
        return [m.get("id", "") for m in self.messages if m.get("type") != "error"]

    def errors_for(self) -> dict[str, tuple[str, str]]:
        """id → (type, condition) of every message error received."""
        found = {}
        for message in self.messages:
            condition = error_condition(message)
            if message.get("type") == "error" and condition is not None:
                found[message.get("id", "")] = condition
        return found

    async def close(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError):
            if not self.writer.is_closing():
                self.writer.write(b"</stream:stream>")
            self.writer.close()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await self._reader_task
