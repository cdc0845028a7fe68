"""A small recorded BOSH (XEP-0124/0206) client over the standard library's http.client."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import random
import ssl
import xml.etree.ElementTree as ET
from collections.abc import Callable
from urllib.parse import urlsplit

from tigase_py.compat_tests import ns, transcript
from tigase_py.compat_tests.client import tls_context
from tigase_py.compat_tests.target import Target

HTTPBIND = "http://jabber.org/protocol/httpbind"
XBOSH = "urn:xmpp:xbosh"
BODY = ns.q(HTTPBIND, "body")
WAIT = 2  # seconds the connection manager may hold an empty poll: short, so cases stay fast


class BoshClient:
    """One BOSH session. Payloads go out in <body/> wrappers; received children land in an inbox."""

    def __init__(self, target: Target, url: str, who: str = "bosh") -> None:
        self.target = target
        self.url = urlsplit(url)
        self.who = who
        self.rid = random.randint(1_000_000, 9_000_000)
        self.sid: str | None = None
        self.inbox: list[ET.Element] = []
        self.bodies: list[ET.Element] = []
        self.terminated: str | None = None  # condition of a terminate body, or "" without one
        self._changed = asyncio.Event()
        self._outstanding: set[asyncio.Task[None]] = set()

    # -- HTTP ---------------------------------------------------------------------------------
    def _post_blocking(self, data: str) -> tuple[int, str]:
        context: ssl.SSLContext | None = tls_context(self.target) if self.url.scheme == "https" else None
        host, port = self.url.hostname or self.target.host, self.url.port
        conn: http.client.HTTPConnection
        if context is not None:
            conn = http.client.HTTPSConnection(host, port, timeout=WAIT + 10, context=context)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=WAIT + 10)
        try:
            headers = {"Content-Type": "text/xml; charset=utf-8"}
            conn.request("POST", self.url.path or "/", data.encode(), headers)
            response = conn.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            conn.close()

    async def post(self, data: str) -> tuple[int, ET.Element | None]:
        """POST one <body/>; return (HTTP status, parsed body or None). Children go into the inbox."""
        transcript.current().add("sent", self.who, data)
        status, text = await asyncio.to_thread(self._post_blocking, data)
        transcript.current().add("received", self.who, f"HTTP {status} {text}")
        body = None
        if status == 200 and text.strip():
            body = ET.fromstring(text)
            self.bodies.append(body)
            if body.get("type") == "terminate":
                self.terminated = body.get("condition", "")
            self.inbox.extend(list(body))
        self._changed.set()
        return status, body

    def wrap(self, payload: str = "", **attrs: str) -> str:
        self.rid += 1
        extra = "".join(f" {k.replace('__', ':')}='{v}'" for k, v in attrs.items())
        sid = f" sid='{self.sid}'" if self.sid else ""
        return f"<body xmlns='{HTTPBIND}' xmlns:xmpp='{XBOSH}' rid='{self.rid}'{sid}{extra}>{payload}</body>"

    # -- session ------------------------------------------------------------------------------
    async def create(self) -> ET.Element:
        """The session creation request (XEP-0124 7.1, XEP-0206 version 1.0); return the response body."""
        attrs = {"to": self.target.domain, "wait": str(WAIT), "hold": "1", "ver": "1.6", "xmpp__version": "1.0"}
        attrs["xml:lang"] = "en"
        status, body = await self.post(self.wrap(**attrs))
        assert status == 200 and body is not None and body.tag == BODY, f"session creation: HTTP {status}"
        self.sid = body.get("sid")
        return body

    def _fire(self, data: str) -> None:
        task = asyncio.get_running_loop().create_task(self._quiet_post(data))
        self._outstanding.add(task)
        task.add_done_callback(self._outstanding.discard)

    async def _quiet_post(self, data: str) -> None:
        try:
            await self.post(data)
        except (OSError, ET.ParseError, http.client.HTTPException) as exc:
            transcript.current().note(self.who, f"request failed: {exc}")
            self.terminated = self.terminated or f"request failed: {exc}"
            self._changed.set()

    async def send(self, payload: str, **attrs: str) -> None:
        """Send ``payload`` in a new request without waiting for its response."""
        while len(self._outstanding) >= 2:
            self._changed.clear()
            await self._changed.wait()
        self._fire(self.wrap(payload, **attrs))

    async def expect(self, match: Callable[[ET.Element], bool] | str, timeout: float = 10.0) -> ET.Element:
        """The first received element matching; polls with empty bodies while nothing is outstanding."""
        predicate = match if callable(match) else (lambda el: el.tag == match)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for element in self.inbox:
                if predicate(element):
                    self.inbox.remove(element)
                    return element
            if self.terminated is not None:
                raise AssertionError(f"the BOSH session ended ({self.terminated}) while waiting for {match}")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"{self.who}: nothing matching {match} within {timeout:g}s")
            if not self._outstanding:
                self._fire(self.wrap())
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)

    async def close(self) -> None:
        """Terminate the session (if any) and wait for outstanding requests."""
        if self.sid and self.terminated is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.post(self.wrap(type="terminate")), WAIT + 5)
        for task in list(self._outstanding):
            with contextlib.suppress(BaseException):
                await asyncio.wait_for(task, WAIT + 5)
