"""Parse a stored XML fragment back into an :class:`Element` with the restricted stream parser.

Modules that keep XML documents (private storage, vCards) serialise them with ``Element.to_str()``
and read them back with :func:`parse_fragment`, so stored data passes the same RFC 6120 section 11
restrictions (no DTDs, comments or processing instructions) as data arriving on a stream.

    >>> parse_fragment('<a xmlns="urn:x"><b>hi</b></a>').find_text("b")
    'hi'
"""

from __future__ import annotations

from tigase_py.server.xml.element import Element
from tigase_py.server.xml.parser import ParserLimits, StreamParser, XmlStreamError

_OPEN = b"<fragment xmlns='jabber:client'>"
_CLOSE = b"</fragment>"
FRAGMENT_LIMITS = ParserLimits(
    max_stanza_bytes=16 * 1024 * 1024, max_tag_bytes=16 * 1024 * 1024, max_elements=100_000
)


class FragmentError(ValueError):
    """The text is not exactly one well-formed, unrestricted XML element."""


class _Collector:
    __slots__ = ("elements", "closed")

    def __init__(self) -> None:
        self.elements: list[Element] = []
        self.closed = False

    def stream_opened(self, tag: str, ns: str, attrs: dict[str, str]) -> None:
        return None

    def stanza_received(self, stanza: Element) -> None:
        self.elements.append(stanza)

    def stream_closed(self) -> None:
        self.closed = True


def parse_fragment(text: str, limits: ParserLimits = FRAGMENT_LIMITS) -> Element:
    """Return the single element in ``text``; raise :class:`FragmentError` otherwise."""
    collector = _Collector()
    parser = StreamParser(collector, limits)
    try:
        parser.feed(_OPEN)
        parser.feed(text.encode())
        parser.feed(_CLOSE)
    except XmlStreamError as exc:
        raise FragmentError(str(exc)) from None
    if not collector.closed or len(collector.elements) != 1:
        raise FragmentError("expected exactly one element")
    return collector.elements[0]
