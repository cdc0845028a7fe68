"""Feeding bytes to the stream parser and recording what comes out; no hypothesis, so the atheris
harnesses can use it too."""

from __future__ import annotations

from dataclasses import dataclass, field

from tigase_py.server.xml.element import Element
from tigase_py.server.xml.parser import ParserLimits, StreamParser, XmlStreamError

HEADER = (
    b"<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
    b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
)
FOOTER = b"</stream:stream>"
SMALL_LIMITS = ParserLimits(max_stanza_bytes=2048, max_header_bytes=1024, max_tag_bytes=512, max_depth=8,
                            max_elements=40, max_attributes=6, max_name_length=24)


def cut(data: bytes, points: list[int]) -> list[bytes]:
    """``data`` split at the given offsets (taken modulo its length, sorted, duplicates allowed)."""
    if not data:
        return [data]
    offsets = sorted(point % (len(data) + 1) for point in points)
    bounds = [0, *offsets, len(data)]
    return [data[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]


@dataclass
class Recorder:
    """A sink that records every event as comparable bytes/tuples."""

    events: list[object] = field(default_factory=list)

    def stream_opened(self, tag: str, ns: str, attrs: dict[str, str]) -> None:
        self.events.append(("open", tag, ns, sorted(attrs.items())))

    def stanza_received(self, stanza: Element) -> None:
        self.events.append(("stanza", stanza.ns, stanza.to_bytes()))

    def stream_closed(self) -> None:
        self.events.append(("close",))


def check_invariants(parser: StreamParser) -> None:
    """What the parser may hold at any time: never more than its limits allow."""
    limits = parser.limits
    assert parser._tail <= limits.max_tag_bytes
    if parser._stack:
        assert parser._fed - parser._boundary <= limits.max_stanza_bytes
        assert len(parser._stack) < limits.max_depth
        assert parser._elements <= limits.max_elements
    elif parser._depth == 0 and not parser._stream_tag:
        assert parser._fed <= limits.max_header_bytes


def run(chunks: list[bytes], limits: ParserLimits | None = None, hibernate: bool = False) -> tuple[list[object], str]:
    """Feed the chunks; return the events and the error condition ('' when none)."""
    recorder = Recorder()
    parser = StreamParser(recorder, limits)
    try:
        for chunk in chunks:
            parser.feed(chunk)
            check_invariants(parser)
            if hibernate:
                parser.hibernate()
    except XmlStreamError as exc:
        return recorder.events, exc.condition
    return recorder.events, ""


# When bytes hold two faults, which one expat meets first can depend on where the reads end (text
# outside a stanza is reported when expat flushes it, a bad token when it is scanned); both refuse
# the XML, so these two conditions count as the same outcome.
_REFUSED_XML = {"not-well-formed": "refused", "restricted-xml": "refused"}


def same_outcome(first: tuple[list[object], str], second: tuple[list[object], str]) -> bool:
    """The same events, and errors that are equal up to the refused-XML pair above."""
    return first[0] == second[0] and _REFUSED_XML.get(first[1], first[1]) == _REFUSED_XML.get(second[1], second[1])
