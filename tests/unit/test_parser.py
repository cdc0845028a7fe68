"""The restricted XMPP stream parser: good streams, hostile XML and limits."""

from __future__ import annotations

import pytest

from tigase_py.server.xml.element import Element
from tigase_py.server.xml.parser import ParserLimits, StreamParser, XmlStreamError

HEADER = (
    b"<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
    b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
)


class Sink:
    def __init__(self) -> None:
        self.header: tuple[str, str, dict[str, str]] | None = None
        self.stanzas: list[Element] = []
        self.closed = False

    def stream_opened(self, tag: str, ns: str, attrs: dict[str, str]) -> None:
        self.header = (tag, ns, attrs)

    def stanza_received(self, stanza: Element) -> None:
        self.stanzas.append(stanza)

    def stream_closed(self) -> None:
        self.closed = True


def parse(*chunks: bytes, limits: ParserLimits | None = None) -> Sink:
    sink = Sink()
    parser = StreamParser(sink, limits)
    for chunk in chunks:
        parser.feed(chunk)
    return sink


def condition_of(*chunks: bytes, limits: ParserLimits | None = None) -> str:
    with pytest.raises(XmlStreamError) as info:
        parse(*chunks, limits=limits)
    return info.value.condition


def test_header_stanzas_and_close_are_reported() -> None:
    sink = parse(HEADER, b"<message to='a@b'><body>hi &amp; bye</body></message>", b"</stream:stream>")
    assert sink.header is not None
    tag, ns, attrs = sink.header
    assert (tag, ns, attrs["to"]) == ("stream:stream", "http://etherx.jabber.org/streams", "localhost")
    [message] = sink.stanzas
    assert message.ns == "jabber:client"
    assert message.find_text("body") == "hi & bye"
    assert sink.closed


def test_bytes_split_anywhere_give_the_same_stanza() -> None:
    data = HEADER + "<message><body>héllo</body><x xmlns='urn:y'><z/></x></message>".encode()
    for cut in range(1, len(data)):
        sink = parse(data[:cut], data[cut:])
        assert len(sink.stanzas) == 1
        assert sink.stanzas[0].find_text("body") == "héllo"
        assert sink.stanzas[0].find("x").ns == "urn:y"  # type: ignore[union-attr]


def test_prefixed_child_namespaces_are_resolved() -> None:
    sink = parse(HEADER, b"<iq type='get' id='1'><r:query xmlns:r='jabber:iq:roster'/></iq>")
    query = sink.stanzas[0].first_child()
    assert query is not None and query.name == "query" and query.ns == "jabber:iq:roster"


def test_serialising_a_parsed_stanza_round_trips() -> None:
    text = "<message to='a@b' id='x&amp;y'><body>&lt;b&gt; &amp; ' \"</body></message>"
    stanza = parse(HEADER, text.encode()).stanzas[0]
    again = parse(HEADER, stanza.to_bytes()).stanzas[0]
    assert again.attrs == stanza.attrs
    assert again.find_text("body") == "<b> & ' \""


@pytest.mark.parametrize(
    "payload",
    [
        b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]>",
        b"<!-- a comment -->",
        b"<?pi data?>",
    ],
)
def test_restricted_xml_inside_the_stream(payload: bytes) -> None:
    assert condition_of(HEADER, payload) == "restricted-xml"


def test_doctype_before_the_stream_is_refused_before_any_entity_is_expanded() -> None:
    bomb = b"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>" + b"".join(
        f"<!ENTITY lol{i} '{'&lol{};'.format(i - 1 if i > 1 else '') * 10}'>".encode() for i in range(1, 10)
    )
    assert condition_of(bomb + b"]><stream:stream/>") == "restricted-xml"


def test_external_entity_is_refused() -> None:
    xxe = b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
    assert condition_of(xxe) == "restricted-xml"


@pytest.mark.parametrize(
    "payload",
    [b"<'/>", b"< message>>>/>", b"<message>\xff\xfe</message>", b"<a>\xc0\xaf</a>", b"<a>&#0;</a>", b"<a>&foo;</a>"],
)
def test_malformed_xml_is_not_well_formed(payload: bytes) -> None:
    assert condition_of(HEADER, payload) == "not-well-formed"


def test_non_utf8_declaration_is_refused() -> None:
    decl = b"<?xml version='1.0' encoding='ISO-8859-1'?><stream:stream xmlns:stream='x'>"
    assert condition_of(decl) == "unsupported-encoding"


def test_stanza_at_the_limit_passes_and_one_byte_more_fails() -> None:
    limit = 4096
    shell = b"<message><body></body></message>"
    exact = b"<message><body>" + b"a" * (limit - len(shell)) + b"</body></message>"
    assert len(exact) == limit
    sink = parse(HEADER, exact, limits=ParserLimits(max_stanza_bytes=limit))
    assert len(sink.stanzas) == 1
    too_big = b"<message><body>" + b"a" * (limit + 1) + b"</body></message>"
    with pytest.raises(XmlStreamError) as info:
        parse(HEADER, too_big, limits=ParserLimits(max_stanza_bytes=limit))
    assert info.value.condition == "policy-violation" and info.value.too_big


def test_a_never_closing_text_node_is_cut_at_the_limit() -> None:
    sink = Sink()
    parser = StreamParser(sink, ParserLimits(max_stanza_bytes=8192))
    parser.feed(HEADER + b"<message><body>")
    with pytest.raises(XmlStreamError) as info:
        for _ in range(100):
            parser.feed(b"x" * 1024)
    assert info.value.condition == "policy-violation"


def test_deep_nesting_and_element_floods_hit_the_caps() -> None:
    assert condition_of(HEADER, b"<a>" * 100_000) == "policy-violation"
    many = b"<message>" + b"<x/>" * 1001 + b"</message>"
    assert condition_of(HEADER, many) == "policy-violation"


def test_too_many_attributes_is_a_policy_violation() -> None:
    attrs = " ".join(f"a{i}='1'" for i in range(51))
    assert condition_of(HEADER, f"<message {attrs}/>".encode()) == "policy-violation"


def test_many_small_stanzas_do_not_accumulate_towards_the_limit() -> None:
    stanza = b"<message><body>" + b"a" * 500 + b"</body></message>"
    sink = parse(HEADER, stanza * 100, limits=ParserLimits(max_stanza_bytes=2048))
    assert len(sink.stanzas) == 100


def test_reset_starts_a_new_stream() -> None:
    sink = Sink()
    parser = StreamParser(sink)
    parser.feed(HEADER + b"<a xmlns='urn:x'/>")
    parser.reset()
    parser.feed(HEADER + b"<b xmlns='urn:y'/>")
    assert [s.tag for s in sink.stanzas] == ["a", "b"]


def test_hibernating_between_stanzas_loses_nothing_and_keeps_namespaces() -> None:
    sink = Sink()
    parser = StreamParser(sink)
    parser.feed(HEADER + b"<message><body>one</body></message> \n")
    assert parser.hibernate() and parser.is_hibernating
    parser.feed(b"<message><body>two</body><x xmlns='urn:y'/></message><iq type='get' id='1'><stream:z/></iq>")
    assert [s.find_text("body") for s in sink.stanzas[:2]] == ["one", "two"]
    assert sink.stanzas[1].ns == "jabber:client" and sink.stanzas[1].find("x").ns == "urn:y"  # type: ignore[union-attr]
    assert sink.stanzas[2].first_child().ns == "http://etherx.jabber.org/streams"  # type: ignore[union-attr]
    assert sink.header is not None and len(sink.stanzas) == 3
    parser.feed(b"</stream:stream>")
    assert sink.closed


def test_no_hibernation_inside_a_stanza_or_a_partial_tag() -> None:
    parser = StreamParser(Sink())
    parser.feed(HEADER + b"<message><body>one</body></message><mess")
    assert not parser.hibernate()
    parser.feed(b"age><body>")
    assert not parser.hibernate()
    parser.feed(HEADER[:0] + b"x</body></message>")
    assert parser.hibernate()


def test_a_stanza_limit_still_holds_after_waking() -> None:
    parser = StreamParser(Sink(), ParserLimits(max_stanza_bytes=1024))
    parser.feed(HEADER + b"<message/>")
    assert parser.hibernate()
    with pytest.raises(XmlStreamError) as info:
        parser.feed(b"<message><body>" + b"a" * 2000 + b"</body></message>")
    assert info.value.condition == "policy-violation"
