"""Hypothesis strategies: stanza trees, whole client streams and byte mutations of them."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.fuzz.recording import FOOTER, HEADER
from tigase_py.server.xml.element import Element

# XML 1.0 Char, with the characters that need escaping or normalisation over-represented.
EDGE_CHARS = "\t\n\r &<>\"';]]>é中😀\u200b\u2028\ufffd\U0010fffd"
xml_chars = st.one_of(
    st.sampled_from(EDGE_CHARS),
    st.characters(min_codepoint=0x20, max_codepoint=0xD7FF),
    st.characters(min_codepoint=0xE000, max_codepoint=0xFFFD),
    st.characters(min_codepoint=0x10000, max_codepoint=0x10FFFF),
)
xml_text = st.text(alphabet=xml_chars, max_size=24)
names = st.sampled_from(["message", "body", "iq", "x", "query", "item", "a-b", "a.b", "_c9", "é", "中文", "L" * 20])
# Every generated stanza declares the prefix ``p``, so any descendant may use it on tags and attributes.
prefixed_names = st.one_of(names, names.map(lambda name: f"p:{name}"))
namespaces = st.sampled_from(["urn:a", "urn:b", "jabber:client", "http://example.com/ns?x=1&y=2", ""])


@st.composite
def elements(draw: st.DrawFn, children: st.SearchStrategy[list[Element | str]]) -> Element:
    attrs = draw(st.dictionaries(prefixed_names.filter(lambda n: not n.startswith("xmlns")), xml_text, max_size=4))
    if draw(st.booleans()):
        attrs["xmlns"] = draw(namespaces)
    return Element(draw(prefixed_names), attrs, children=draw(children))


def trees() -> st.SearchStrategy[Element | str]:
    # Text children are never empty: an empty string child serialises as <x></x>, which parses as <x/>.
    leaves: st.SearchStrategy[Element | str] = st.one_of(xml_text.filter(bool), elements(st.just([])))
    return st.recursive(leaves, lambda inner: elements(st.lists(inner, max_size=3)), max_leaves=6)


@st.composite
def stanzas(draw: st.DrawFn) -> Element:
    stanza = draw(elements(st.lists(trees(), max_size=3)))
    stanza.attrs["xmlns:p"] = "urn:p"
    return stanza


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    """A whole client stream (header, stanzas with whitespace between them, maybe the closing tag)
    and the serialised stanzas in it."""
    parts = [HEADER]
    serialised = [stanza.to_bytes() for stanza in draw(st.lists(stanzas(), max_size=3))]
    for stanza in serialised:
        parts.append(draw(st.sampled_from([b"", b" ", b"\n", b"\r\n", b" \t "])))
        parts.append(stanza)
    if draw(st.booleans()):
        parts.append(FOOTER)
    return b"".join(parts), serialised


INSERTS = [b"<", b">", b"&", b"'", b'"', b"/", b"\xff", b"\xc3", b"\x00", b"<!--", b"<?pi?>", b"<!DOCTYPE x>",
           b"]]>", b"<![CDATA[", b"&#0;", b"&#x110000;", b"&lt;", b" xmlns:q='u'", b"<q:a/>", b"</x>", b"a" * 600]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid stream with truncations, insertions, byte flips, deletions and duplicated slices."""
    data = bytearray(draw(streams())[0])
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        position = draw(st.integers(0, len(data)))
        operation = draw(st.sampled_from(["truncate", "insert", "flip", "delete", "duplicate"]))
        if operation == "truncate":
            del data[position:]
        elif operation == "insert":
            data[position:position] = draw(st.one_of(st.sampled_from(INSERTS), st.binary(min_size=1, max_size=8)))
        elif operation == "flip" and position < len(data):
            data[position] ^= draw(st.integers(1, 255))
        elif operation == "delete":
            del data[position : position + draw(st.integers(1, 16))]
        else:
            data[position:position] = data[position : position + draw(st.integers(1, 64))]
    return bytes(data)
