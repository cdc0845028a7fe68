"""Incremental XMPP stream parser on expat, restricted to RFC 6120 section 11 XML.

The parser turns bytes into three events delivered to a :class:`StreamSink`: the stream header, each
complete top-level stanza as an :class:`Element`, and the end of the stream. Anything RFC 6120 forbids
(DTDs, entity declarations, comments, processing instructions, non-UTF-8 declarations) raises
:class:`XmlStreamError` with ``restricted-xml``; malformed bytes raise ``not-well-formed``; stanzas that
exceed the byte, depth, element or attribute limits raise ``policy-violation`` before they are built.

Byte limits are enforced before bytes reach expat, not after: :meth:`StreamParser.feed` hands expat at
most as many bytes as the stream header, the current top-level element and the current unfinished tag
may still grow by, so a start tag that never ends (``<message to='aaaa…``) is cut at the limit instead
of being buffered. The unfinished-tag cap also bounds what expat 2.5 re-scans on every read (it restarts
the partial token from its first byte, which made a slowly sent huge tag quadratic).
"""

from __future__ import annotations

import pyexpat
from dataclasses import dataclass
from typing import Protocol

from tigase_py.server.xml.element import Element, escape_attr


class XmlStreamError(Exception):
    """A stream-level XML failure; ``condition`` is the RFC 6120 stream error to send."""

    def __init__(self, condition: str, text: str = "", too_big: bool = False) -> None:
        super().__init__(f"{condition}: {text}" if text else condition)
        self.condition = condition
        self.text = text
        self.too_big = too_big


@dataclass(frozen=True, slots=True)
class ParserLimits:
    max_stanza_bytes: int = 256 * 1024
    max_header_bytes: int = 4 * 1024  # the XML declaration and the stream header
    max_tag_bytes: int = 16 * 1024  # one unfinished tag, entity reference or other markup token
    max_depth: int = 64
    max_elements: int = 1000
    max_attributes: int = 50
    max_name_length: int = 1024


class StreamSink(Protocol):
    def stream_opened(self, tag: str, ns: str, attrs: dict[str, str]) -> None: ...

    def stanza_received(self, stanza: Element) -> None: ...

    def stream_closed(self) -> None: ...


def _restricted(*_args: object) -> None:
    raise XmlStreamError("restricted-xml", "Restricted XML, see RFC 6120 section 11.1")


def _check_declaration(version: str | None, encoding: str | None, standalone: int) -> None:
    if version != "1.0":
        raise XmlStreamError("unsupported-version" if version else "restricted-xml", "XML 1.0 only")
    if encoding is not None and encoding.lower() not in ("utf-8", "utf8"):
        raise XmlStreamError("unsupported-encoding", "Only UTF-8 is allowed")
    if standalone == 0:
        raise XmlStreamError("restricted-xml", "standalone='no' is not allowed")


def _declares_prefix(attrs: dict[str, str]) -> bool:
    for key in attrs:
        if key[:6] == "xmlns:":
            return True
    return False


# Element and attribute names are interned in one dict shared by every parser instead of one dict per
# parser (about 8 KiB per session). It is cleared when it grows, so hostile names cannot pin memory.
_NAMES: dict[str, str] = {}
_NAMES_LIMIT = 50_000


class StreamParser:
    """Feed bytes with :meth:`feed`; events go to the sink. Call :meth:`reset` on stream restart."""

    __slots__ = (
        "_sink",
        "limits",
        "_parser",
        "_stack",
        "_depth",
        "_elements",
        "_fed",
        "_boundary",
        "_stream_ns",
        "_prefixes",
        "_prefix_undo",
        "_tail",
        "_recent",
        "_started",
        "_replaying",
        "_stream_tag",
    )

    def __init__(self, sink: StreamSink, limits: ParserLimits | None = None) -> None:
        self._sink = sink
        self.limits = limits or ParserLimits()
        self.reset()

    def reset(self) -> None:
        self._new_parser()
        self._stack: list[Element] = []
        self._depth = 0
        self._elements = 0
        self._fed = 0
        self._boundary = 0
        self._tail = 0
        self._recent: tuple[bytes | memoryview, bytes | memoryview] = (b"", b"")
        self._started = False
        self._replaying = False
        self._stream_ns = ""
        self._stream_tag = ""
        self._prefixes: dict[str, str] = {}
        self._prefix_undo: list[tuple[int, str, str | None]] = []

    def _new_parser(self) -> None:
        if len(_NAMES) > _NAMES_LIMIT:
            _NAMES.clear()
        parser = pyexpat.ParserCreate("UTF-8", intern=_NAMES)
        parser.buffer_text = True
        parser.buffer_size = 1024  # 4096 costs ~11 KiB more per session
        parser.StartDoctypeDeclHandler = _restricted
        parser.EntityDeclHandler = _restricted
        parser.CommentHandler = _restricted
        parser.ProcessingInstructionHandler = _restricted
        parser.XmlDeclHandler = _check_declaration
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._text
        self._parser: pyexpat.XMLParserType | None = parser

    def hibernate(self) -> bool:
        """Free the expat parser between stanzas (about 10 KiB); the next feed rebuilds it.

        Only done when the stream is open, no stanza is in progress and expat holds no unfinished
        token, so nothing the client sent is lost.
        """
        if self._parser is None or self._depth != 1 or self._tail or self._stack:
            return False
        self._parser = None
        return True

    @property
    def is_hibernating(self) -> bool:
        return self._parser is None

    def _wake(self) -> None:
        self._new_parser()
        declarations = "".join(
            f" xmlns:{prefix}='{escape_attr(uri)}'" for prefix, uri in self._prefixes.items()
        )
        header = f"<{self._stream_tag} xmlns='{escape_attr(self._stream_ns)}'{declarations}>".encode()
        self._replaying = True
        self._depth = 0
        assert self._parser is not None
        self._parser.Parse(header, False)
        self._replaying = False
        self._fed = self._boundary = len(header)
        self._tail = 0
        self._recent = (b"", b"")
        self._started = True

    def set_limits(self, limits: ParserLimits) -> None:
        self.limits = limits

    def feed(self, data: bytes) -> None:
        """Parse ``data``; raise :class:`XmlStreamError` before a byte limit would be passed.

        The data goes to expat in one piece unless it would overrun the room left for the stream
        header, the current top-level element or the current unfinished token; then it goes in pieces
        of at most that room, re-measured after each, so a limit is checked at the exact byte.
        """
        if self._parser is None:
            self._wake()
        if len(_NAMES) > _NAMES_LIMIT:
            _NAMES.clear()
        if b"\0" in data or not self._started:
            self._feed_screened(data)
        elif len(data) <= self._room():
            self._parse(data)
        else:
            self._feed_in_pieces(data)

    def _feed_screened(self, data: bytes) -> None:
        """Refuse a NUL byte, and anything but whitespace before the first ``<`` of a stream (expat
        would wait for more bytes to guess an encoding, and so fail differently depending on how the
        bytes were split). What comes before the bad byte is parsed first, so the same stanzas come
        out however the stream was split."""
        bad = data.find(b"\0")
        if not self._started:
            start = len(data) - len(data.lstrip(b" \t\r\n"))
            if start < len(data):
                self._started = True
                if data[start : start + 1] != b"<" and (bad < 0 or start < bad):
                    bad = start
        if bad < 0:
            self._feed_in_pieces(data)
            return
        self._feed_in_pieces(data[:bad])
        raise XmlStreamError("not-well-formed", "a NUL byte, or text before the stream header")

    def _feed_in_pieces(self, data: bytes) -> None:
        size = len(data)
        room = self._room()
        if size <= room:
            self._parse(data)
            return
        view = memoryview(data)
        offset = 0
        while offset < size:
            if room <= 0:
                self._refuse()
            piece = view[offset : offset + room]
            offset += len(piece)
            self._parse(piece)
            room = self._room()

    def _parse(self, piece: bytes | memoryview) -> None:
        parser = self._parser
        assert parser is not None
        self._fed += len(piece)
        try:
            parser.Parse(piece, False)
        except pyexpat.ExpatError as exc:
            if self._is_declaration_at(parser.ErrorByteIndex, piece):
                raise XmlStreamError("restricted-xml", "Restricted XML, see RFC 6120 section 11.1") from None
            raise XmlStreamError("not-well-formed", pyexpat.ErrorString(exc.code)) from None
        self._recent = (self._recent[1], piece)  # references only; copied if a parse error needs them
        # After Parse returns, expat's current byte index is where the token it could not finish yet
        # starts (or the end of the data when every token is complete).
        parser = self._parser
        index = parser.CurrentByteIndex if parser is not None else self._fed
        self._tail = self._fed - max(index, 0)

    def _is_declaration_at(self, index: int, piece: bytes | memoryview) -> bool:
        """Whether expat failed on a markup declaration (``<!DOCTYPE``, ``<!ENTITY``, ...).

        Judged from the bytes at the error (expat points just after ``<!``, which may have come in
        the two reads before), never from bytes after it, so the condition does not depend on how
        the stream was split into reads.
        """
        before, last = self._recent
        window = bytes(before[-2:]) + bytes(last[-2:]) + bytes(piece)
        offset = index - (self._fed - len(window))
        if offset < 2:
            return False
        return window[offset - 2 : offset] == b"<!" and window[offset : offset + 1] not in (b"-", b"[")

    def _room(self) -> int:
        """How many more bytes may reach expat before a byte limit is passed."""
        limits = self.limits
        room = limits.max_tag_bytes - self._tail
        if self._depth == 0 and not self._stream_tag:
            return min(room, limits.max_header_bytes - self._fed)
        # At depth 1 with no stanza open everything before the unfinished token was consumed: the
        # header, whitespace and whole stanzas; inside a stanza it counts from the stanza's first byte.
        used = self._fed - self._boundary if self._stack else self._tail
        return min(room, limits.max_stanza_bytes - used)

    def _refuse(self) -> None:
        limits = self.limits
        if self._depth == 0 and not self._stream_tag:
            raise XmlStreamError("policy-violation", "the stream header is too big")
        if self._tail >= limits.max_tag_bytes:
            raise XmlStreamError("policy-violation", "an XML tag is too big", too_big=True)
        raise XmlStreamError("policy-violation", "XML stanza is too big", too_big=True)

    # -- expat callbacks ----------------------------------------------
    def _byte_index(self) -> int:
        parser = self._parser
        return parser.CurrentByteIndex if parser is not None else self._fed

    def _resolve(self, tag: str, attrs: dict[str, str]) -> str:
        for key in attrs:
            if key.startswith("xmlns:"):
                prefix = key[6:]
                self._prefix_undo.append((self._depth, prefix, self._prefixes.get(prefix)))
                self._prefixes[prefix] = attrs[key]
        colon = tag.find(":")
        if colon >= 0:
            prefix = tag[:colon]
            ns = self._prefixes.get(prefix)
            if ns is None:
                raise XmlStreamError("not-well-formed", f"undeclared prefix {prefix!r}")
            return ns
        ns = attrs.get("xmlns")
        if ns is not None:
            return ns
        return self._stack[-1].ns if self._stack else self._stream_ns

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        limits = self.limits
        depth = self._depth
        if len(attrs) > limits.max_attributes or len(tag) > limits.max_name_length:
            raise XmlStreamError("policy-violation", "too many attributes or name too long")
        if depth == 0:
            if self._replaying:
                self._depth = 1
                return
            self._stream_tag = tag
            for key in attrs:
                if key.startswith("xmlns:"):
                    self._prefixes[key[6:]] = attrs[key]
            colon = tag.find(":")
            ns = self._prefixes.get(tag[:colon], "") if colon >= 0 else attrs.get("xmlns", "")
            self._stream_ns = attrs.get("xmlns", "")
            self._depth = 1
            self._boundary = self._fed
            self._sink.stream_opened(tag, ns, attrs)
            return
        if depth >= limits.max_depth:
            raise XmlStreamError("policy-violation", "XML nesting too deep")
        if depth == 1:
            self._boundary = self._byte_index()
        self._elements += 1
        if self._elements > limits.max_elements:
            raise XmlStreamError("policy-violation", "too many elements in one stanza")
        if "xmlns" in attrs or ":" in tag or (attrs and _declares_prefix(attrs)):
            ns = self._resolve(tag, attrs)
        else:
            ns = self._stack[-1].ns if self._stack else self._stream_ns
        element = Element.__new__(Element)
        element.tag = tag
        element.attrs = attrs
        element.children = []
        element.ns = ns
        if self._stack:
            self._stack[-1].children.append(element)
        self._stack.append(element)
        self._depth = depth + 1

    def _end(self, tag: str) -> None:
        depth = self._depth - 1
        self._depth = depth
        if self._prefix_undo:
            while self._prefix_undo and self._prefix_undo[-1][0] >= depth:
                _, prefix, previous = self._prefix_undo.pop()
                if previous is None:
                    self._prefixes.pop(prefix, None)
                else:
                    self._prefixes[prefix] = previous
        if depth == 0:
            self._sink.stream_closed()
            return
        element = self._stack.pop()
        if depth == 1:
            self._elements = 0
            end = self._byte_index() + len(tag) + 3
            if end - self._boundary > self.limits.max_stanza_bytes:
                raise XmlStreamError("policy-violation", "XML stanza is too big", too_big=True)
            self._sink.stanza_received(element)

    def _text(self, data: str) -> None:
        if self._stack:
            self._stack[-1].children.append(data)
        elif data.strip():
            raise XmlStreamError("not-well-formed", "text outside a stanza")
