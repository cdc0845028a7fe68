"""A raw wire client that records every byte: connect, stream, STARTTLS, SASL, bind, send, expect.

Cases use it for wire-level checks; :func:`slixmpp_client` gives a higher-level client for the rest.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import ssl
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import scramp

from tigase_py.compat_tests import ns, transcript
from tigase_py.compat_tests.target import Account, Target
from tigase_py.compat_tests.xmlstream import NotWellFormed, StreamHeader, StreamParser

TIMEOUT = 10.0
_ids = itertools.count(1)
Predicate = Callable[[ET.Element], bool]


class StreamClosed(Exception):
    """The peer closed the stream (or the connection) while we waited for something else."""


class SaslFailure(Exception):
    """The server answered SASL with <failure/>; ``condition`` is the child's local name."""

    def __init__(self, condition: str, element: ET.Element) -> None:
        super().__init__(f"SASL failure: {condition}")
        self.condition = condition
        self.element = element


def next_id(prefix: str = "c") -> str:
    return f"{prefix}{next(_ids)}"


def tls_context(target: Target) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if not target.verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def local_name(tag: str) -> str:
    return tag.rpartition("}")[2]


def namespace(tag: str) -> str:
    return tag[1:].partition("}")[0] if tag.startswith("{") else ""


def child_condition(element: ET.Element, condition_ns: str) -> str | None:
    """The defined condition of an error element (first child in ``condition_ns``), or None."""
    for child in element:
        if namespace(child.tag) == condition_ns and local_name(child.tag) != "text":
            return local_name(child.tag)
    return None


def stanza_error(element: ET.Element) -> str | None:
    """``<iq type='error'><error><bad-request/>`` → ``"bad-request"``."""
    error = element.find(ns.q(ns.CLIENT, "error"))
    return None if error is None else child_condition(error, ns.STANZA_ERRORS)


def to_text(data: str | ET.Element) -> str:
    if isinstance(data, str):
        return data
    return ET.tostring(data, encoding="unicode", default_namespace=None)


class WireClient:
    """One c2s connection to the target. Every byte goes into the current transcript."""

    def __init__(self, target: Target, who: str = "client") -> None:
        self.target = target
        self.who = who
        self.header: StreamHeader | None = None
        self.features: ET.Element | None = None
        self.jid: str | None = None
        self.closed = False  # the peer sent </stream:stream> or closed the socket
        self.not_well_formed: str | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._parser = StreamParser()
        self._inbox: list[ET.Element] = []
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._paused = False

    # -- connection -------------------------------------------------------------------------
    async def connect(self) -> None:
        target = self.target
        context = tls_context(target) if target.tls == "direct" else None
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(
                target.host, target.port, ssl=context, server_hostname=target.domain if context else None
            ),
            TIMEOUT,
        )
        transcript.current().note(self.who, f"connected to {target.host}:{target.port} ({target.tls})")
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    async def _read_loop(self) -> None:
        assert self._reader is not None
        while True:
            try:
                data = await self._reader.read(65536)
            except (ConnectionError, ssl.SSLError) as exc:
                transcript.current().note(self.who, f"connection error: {exc}")
                data = b""
            if not data:
                transcript.current().note(self.who, "connection closed by peer")
                self.closed = True
                self._changed.set()
                return
            transcript.current().add("received", self.who, data.decode("utf-8", "replace"))
            try:
                events = self._parser.feed(data)
            except NotWellFormed as exc:
                self.not_well_formed = str(exc)
                transcript.current().note(self.who, f"peer sent XML we cannot parse: {exc}")
                events = []
            for event in events:
                if event is None:
                    self.closed = True
                elif isinstance(event, StreamHeader):
                    self.header = event
                else:
                    self._inbox.append(event)
            self._changed.set()

    async def send(self, data: str | ET.Element) -> None:
        text = to_text(data)
        transcript.current().add("sent", self.who, text)
        assert self._writer is not None, "connect() first"
        self._writer.write(text.encode())
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()

    async def send_bytes(self, data: bytes) -> None:
        """Send raw bytes as they are (for malformed-input cases)."""
        transcript.current().add("sent", self.who, data.decode("utf-8", "replace"))
        assert self._writer is not None
        self._writer.write(data)
        with contextlib.suppress(ConnectionError):
            await self._writer.drain()

    async def close(self) -> None:
        if self._writer is None:
            return
        with contextlib.suppress(Exception):
            if not self.closed:
                await self.send("</stream:stream>")
                await self.wait_closed(2.0)
        with contextlib.suppress(Exception):
            self._writer.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        self._writer = None

    # -- waiting --------------------------------------------------------------------------------
    async def _wait_for(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = check()
            if found is not None:
                return found
            remaining = deadline - loop.time()
            if remaining <= 0:
                transcript.current().note(self.who, f"timed out after {timeout:g}s waiting for {what}")
                raise TimeoutError(f"{self.who}: no {what} within {timeout:g}s")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def expect(self, match: Predicate | str, timeout: float = TIMEOUT) -> ET.Element:
        """The first received top-level element matching ``match`` (a predicate or a ``{ns}tag``).

        Elements that do not match stay in the inbox for later ``expect`` calls.
        """
        predicate = match if callable(match) else (lambda el: el.tag == match)
        what = match if isinstance(match, str) else getattr(match, "__name__", "a matching element")

        def check() -> ET.Element | None:
            for element in self._inbox:
                if predicate(element):
                    self._inbox.remove(element)
                    return element
            if self.closed:
                raise StreamClosed(f"{self.who}: stream closed while waiting for {what}")
            return None

        return await self._wait_for(check, timeout, str(what))

    async def wait_closed(self, timeout: float = TIMEOUT) -> bool:
        """True once the peer closed its stream or the socket within ``timeout``; False otherwise."""
        try:
            await self._wait_for(lambda: True if self.closed else None, timeout, "stream close")
        except TimeoutError:
            return False
        return True

    def stream_error(self) -> str | None:
        """The condition of a <stream:error/> received so far, if any."""
        for element in self._inbox:
            if element.tag == ns.q(ns.STREAMS, "error"):
                return child_condition(element, ns.STREAM_ERRORS)
        return None

    async def expect_stream_error(self, timeout: float = TIMEOUT) -> str | None:
        """Wait for a <stream:error/> and return its condition (None if it carries no known one)."""
        element = await self.expect(ns.q(ns.STREAMS, "error"), timeout)
        return child_condition(element, ns.STREAM_ERRORS)

    async def iq(self, data: str | ET.Element, timeout: float = TIMEOUT) -> ET.Element:
        """Send an IQ (its ``id`` must be set) and return the result/error reply with the same id."""
        element = ET.fromstring(data) if isinstance(data, str) else data
        stanza_id = element.get("id")
        assert stanza_id, "iq() needs an id"
        await self.send(data)

        def reply(el: ET.Element) -> bool:
            return (
                el.tag == ns.q(ns.CLIENT, "iq")
                and el.get("id") == stanza_id
                and el.get("type")
                in (
                    "result",
                    "error",
                )
            )

        reply.__name__ = f"iq reply id={stanza_id}"
        return await self.expect(reply, timeout)

    # -- negotiation ----------------------------------------------------------------------------
    def header_xml(self, to: str | None = None, version: str | None = "1.0", lang: str | None = "en") -> str:
        attrs = [f"to='{to if to is not None else self.target.domain}'"]
        if version is not None:
            attrs.append(f"version='{version}'")
        if lang is not None:
            attrs.append(f"xml:lang='{lang}'")
        return f"<?xml version='1.0'?><stream:stream {' '.join(attrs)} xmlns='{ns.CLIENT}' xmlns:stream='{ns.STREAMS}'>"

    async def open_stream(self, to: str | None = None, *, header: str | None = None) -> ET.Element:
        """Send a stream header (ours or ``header``) and return the stream features."""
        self.header = None
        await self.send(header or self.header_xml(to))
        await self._wait_for(lambda: self.header, TIMEOUT, "stream header")
        self.features = await self.expect(ns.q(ns.STREAMS, "features"))
        return self.features

    def restart(self) -> None:
        """Forget the old stream; the next bytes start a new one (after STARTTLS or SASL)."""
        self._parser = StreamParser()
        self.header = None
        self.features = None

    def has_feature(self, tag: str) -> bool:
        return self.features is not None and self.features.find(tag) is not None

    async def starttls(self) -> ET.Element:
        """Negotiate STARTTLS on the open stream; return the features of the new, encrypted stream."""
        await self.send(f"<starttls xmlns='{ns.TLS}'/>")
        answer = await self.expect(lambda el: namespace(el.tag) == ns.TLS)
        if local_name(answer.tag) != "proceed":
            raise AssertionError(f"STARTTLS answered with <{local_name(answer.tag)}/>")
        assert self._writer is not None
        self.restart()
        await self._writer.start_tls(tls_context(self.target), server_hostname=self.target.domain)
        transcript.current().note(self.who, "TLS established")
        return await self.open_stream()

    async def secure(self) -> ET.Element:
        """Connect and open a stream, encrypted as the target's TLS policy says; return features."""
        await self.connect()
        features = await self.open_stream()
        if self.target.tls == "starttls" and features.find(ns.q(ns.TLS, "starttls")) is not None:
            features = await self.starttls()
        return features

    def mechanisms(self) -> list[str]:
        if self.features is None:
            return []
        found = self.features.findall(f"{{{ns.SASL}}}mechanisms/{{{ns.SASL}}}mechanism")
        return [(m.text or "").strip() for m in found]

    async def sasl_step(self, payload: str) -> ET.Element:
        await self.send(payload)
        return await self.expect(lambda el: namespace(el.tag) == ns.SASL)

    async def authenticate(self, account: Account, mechanism: str | None = None) -> ET.Element:
        """SASL with SCRAM-SHA-256, SCRAM-SHA-1 or PLAIN (best offered unless named); then restart.

        Returns the <success/> element; a SCRAM server signature in it is verified.
        """
        offered = self.mechanisms()
        if mechanism is None:
            preferred = ("SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN")
            mechanism = next((m for m in preferred if m in offered), None)
            if mechanism is None:
                raise AssertionError(f"no usable SASL mechanism among {offered}")
        if mechanism == "PLAIN":
            token = base64.b64encode(f"\0{account.local}\0{account.password}".encode()).decode()
            answer = await self.sasl_step(f"<auth xmlns='{ns.SASL}' mechanism='PLAIN'>{token}</auth>")
        else:
            scram = scramp.ScramClient([mechanism], account.local, account.password)
            first = base64.b64encode(scram.get_client_first().encode()).decode()
            answer = await self.sasl_step(f"<auth xmlns='{ns.SASL}' mechanism='{mechanism}'>{first}</auth>")
            if local_name(answer.tag) == "challenge":
                scram.set_server_first(base64.b64decode(answer.text or "").decode())
                final = base64.b64encode(scram.get_client_final().encode()).decode()
                answer = await self.sasl_step(f"<response xmlns='{ns.SASL}'>{final}</response>")
            if local_name(answer.tag) == "success" and answer.text:
                scram.set_server_final(base64.b64decode(answer.text).decode())
        if local_name(answer.tag) == "failure":
            raise SaslFailure(child_condition(answer, ns.SASL) or "(none)", answer)
        if local_name(answer.tag) != "success":
            raise AssertionError(f"unexpected SASL answer <{local_name(answer.tag)}/>")
        self.restart()
        await self.open_stream()
        return answer

    async def bind(self, resource: str | None = None) -> str:
        """Bind a resource (server-generated when None); establish a legacy session if required."""
        inner = f"<resource>{resource}</resource>" if resource else ""
        reply = await self.iq(f"<iq type='set' id='{next_id('bind')}'><bind xmlns='{ns.BIND}'>{inner}</bind></iq>")
        jid = reply.findtext(f"{{{ns.BIND}}}bind/{{{ns.BIND}}}jid")
        if reply.get("type") != "result" or not jid:
            raise AssertionError(f"resource binding failed: {stanza_error(reply)}")
        self.jid = jid
        session = None if self.features is None else self.features.find(ns.q(ns.SESSION, "session"))
        if session is not None and session.find(ns.q(ns.SESSION, "optional")) is None:
            await self.iq(f"<iq type='set' id='{next_id('sess')}'><session xmlns='{ns.SESSION}'/></iq>")
        return jid

    async def login(self, account: Account, resource: str | None = None) -> str:
        """Connect, secure, authenticate and bind: the client is then ready for stanzas."""
        await self.secure()
        await self.authenticate(account)
        return await self.bind(resource)


@contextlib.asynccontextmanager
async def brought_up(
    target: Target, who: str, start: Callable[[WireClient], Awaitable[object]]
) -> AsyncIterator[WireClient]:
    """A client that ``start`` brings up (connect, secure, log in ...), closed on exit however the case ends."""
    client = WireClient(target, who)
    try:
        await start(client)
        yield client
    finally:
        await client.close()


def connected(target: Target, who: str = "client") -> contextlib.AbstractAsyncContextManager[WireClient]:
    """A connected client (nothing sent yet), closed on exit."""
    return brought_up(target, who, WireClient.connect)


def secured(
    target: Target, who: str = "client", account: Account | None = None
) -> contextlib.AbstractAsyncContextManager[WireClient]:
    """A client on a stream secured as the target's TLS policy says, past SASL as ``account`` if one is given
    (no resource bound), closed on exit."""

    async def start(client: WireClient) -> None:
        await client.secure()
        if account is not None:
            await client.authenticate(account)

    return brought_up(target, who, start)


def logged_in(
    target: Target, account: Account, who: str | None = None, resource: str | None = None
) -> contextlib.AbstractAsyncContextManager[WireClient]:
    """A client that has authenticated as ``account`` and bound a resource, closed on exit."""
    return brought_up(target, who or account.local, lambda client: client.login(account, resource))
