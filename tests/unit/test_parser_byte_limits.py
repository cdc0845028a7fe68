"""Byte limits are enforced before bytes reach expat: stream header, stanza and unfinished tag.

Issue 12, defect 2: ``<message to='`` followed by endless ``a`` (or the same inside the stream header)
was buffered by expat without limit and re-scanned on every read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tigase_py.server.config.errors import ConfigError
from tigase_py.server.config.load import load_config
from tigase_py.server.stream.c2s import parser_limits
from tigase_py.server.xml.element import Element
from tigase_py.server.xml.parser import ParserLimits, StreamParser, XmlStreamError

HEADER = (
    b"<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
    b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>"
)
CHUNK = 64 * 1024


class Sink:
    def __init__(self) -> None:
        self.stanzas: list[Element] = []
        self.opened = False

    def stream_opened(self, tag: str, ns: str, attrs: dict[str, str]) -> None:
        self.opened = True

    def stanza_received(self, stanza: Element) -> None:
        self.stanzas.append(stanza)

    def stream_closed(self) -> None:
        return None


def flood(parser: StreamParser, prefix: bytes, total: int, chunk: int = CHUNK) -> tuple[XmlStreamError, int]:
    """Feed ``prefix`` then ``a`` bytes until the parser refuses; return the error and the bytes sent."""
    sent = 0
    with pytest.raises(XmlStreamError) as info:
        parser.feed(prefix)
        sent = len(prefix)
        while sent < total:
            parser.feed(b"a" * chunk)
            sent += chunk
    return info.value, sent


def test_issue12_defect2_an_unfinished_start_tag_is_cut_at_the_stanza_limit() -> None:
    limits = ParserLimits(max_stanza_bytes=256 * 1024, max_tag_bytes=1024 * 1024)
    parser = StreamParser(Sink(), limits)
    error, sent = flood(parser, HEADER + b"<message to='", 123 * 1024 * 1024)
    assert error.condition == "policy-violation" and error.too_big
    assert sent <= len(HEADER) + limits.max_stanza_bytes + CHUNK
    # expat was never handed more than the limit of the unfinished stanza
    assert parser._fed <= len(HEADER) + limits.max_stanza_bytes


def test_issue12_defect2_an_unfinished_tag_is_cut_at_the_tag_limit() -> None:
    parser = StreamParser(Sink(), ParserLimits(max_stanza_bytes=256 * 1024, max_tag_bytes=16 * 1024))
    error, sent = flood(parser, HEADER + b"<message><body>hi</body><x a='", 10 * 1024 * 1024, chunk=1000)
    assert (error.condition, error.text) == ("policy-violation", "an XML tag is too big")
    assert sent < len(HEADER) + 17 * 1024


def test_issue12_defect2_an_unfinished_stream_header_is_cut_at_the_header_limit() -> None:
    parser = StreamParser(Sink(), ParserLimits(max_header_bytes=4096))
    error, sent = flood(parser, b"<?xml version='1.0'?><stream:stream to='", 50 * 1024 * 1024)
    assert (error.condition, error.text) == ("policy-violation", "the stream header is too big")
    assert not error.too_big
    assert sent <= 4096 + CHUNK and parser._fed <= 4096


def test_an_unfinished_entity_reference_counts_as_an_unfinished_tag() -> None:
    parser = StreamParser(Sink(), ParserLimits(max_tag_bytes=2048))
    error, _ = flood(parser, HEADER + b"<message><body>&", 1024 * 1024, chunk=100)
    assert error.condition == "policy-violation"


def test_a_tag_at_the_tag_limit_passes_and_one_byte_more_fails() -> None:
    limits = ParserLimits(max_tag_bytes=1024)
    shell = b"<message to=''>"
    exact = b"<message to='" + b"a" * (1024 - len(shell)) + b"'>"
    assert len(exact) == 1024
    sink = Sink()
    parser = StreamParser(sink, limits)
    parser.feed(HEADER)
    for byte in range(0, len(exact), 7):
        parser.feed(exact[byte : byte + 7])
    parser.feed(b"</message>")
    assert len(sink.stanzas) == 1
    with pytest.raises(XmlStreamError):
        StreamParser(Sink(), limits).feed(HEADER + exact[:-2] + b"a'>")


def test_one_read_holding_many_stanzas_and_a_partial_one_is_parsed_in_pieces() -> None:
    stanza = b"<message><body>" + b"b" * 900 + b"</body></message>"
    sink = Sink()
    parser = StreamParser(sink, ParserLimits(max_stanza_bytes=1024, max_tag_bytes=1024))
    parser.feed(HEADER + stanza * 50 + stanza[:500])
    parser.feed(stanza[500:])
    assert len(sink.stanzas) == 51
    with pytest.raises(XmlStreamError):
        parser.feed(stanza * 3 + b"<message><body>" + b"c" * 2000)
    assert len(sink.stanzas) == 54


def test_whitespace_keepalives_never_add_up_to_a_stanza() -> None:
    sink = Sink()
    parser = StreamParser(sink, ParserLimits(max_stanza_bytes=4096, max_tag_bytes=1024))
    parser.feed(HEADER)
    for _ in range(1000):
        parser.feed(b" \n" * 512)
    parser.feed(b"<message/>")
    assert len(sink.stanzas) == 1 and parser.hibernate()


def test_pre_auth_limits_are_far_stricter_than_post_auth(tmp_path: Path) -> None:
    path = tmp_path / "tigase.toml"
    path.write_text(
        '[[listeners]]\ntls = "none"\nrequire_tls = false\n[limits]\nmax_stanza_size = "1MiB"\n'
        'pre_auth_stanza_size = "8KiB"\nmax_stream_header_size = "2KiB"\nmax_tag_size = "32KiB"\n'
    )
    limits = load_config(path).limits
    before, after = parser_limits(limits, authenticated=False), parser_limits(limits, authenticated=True)
    assert (before.max_stanza_bytes, before.max_tag_bytes, before.max_header_bytes) == (8192, 8192, 2048)
    assert (after.max_stanza_bytes, after.max_tag_bytes, after.max_header_bytes) == (1024 * 1024, 32768, 2048)
    assert before.max_elements < after.max_elements


@pytest.mark.parametrize("key", ["pre_auth_stanza_size", "max_stream_header_size", "max_tag_size"])
def test_byte_limits_below_their_minimum_are_config_errors(tmp_path: Path, key: str) -> None:
    path = tmp_path / "tigase.toml"
    path.write_text(f'[[listeners]]\ntls = "none"\nrequire_tls = false\n[limits]\n{key} = 100\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"limits.{key}: must be at least" in str(info.value)
