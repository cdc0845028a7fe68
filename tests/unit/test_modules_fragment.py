"""The XML fragment parser used for stored private XML and vCards."""

from __future__ import annotations

import pytest

from tigase_py.server.xml.element import Element
from tigase_py.server.xml.fragment import FragmentError, parse_fragment


def test_fragment_roundtrip_keeps_namespaces_and_text() -> None:
    text = '<storage xmlns="storage:bookmarks"><conference jid="r@m"><nick>A &amp; B</nick></conference></storage>'
    element = parse_fragment(text)
    assert element.ns == "storage:bookmarks"
    conference = element.find("conference")
    assert conference is not None and conference.ns == "storage:bookmarks"
    assert conference.find_text("nick") == "A & B"
    assert element.to_str() == text


def test_fragment_default_namespace_is_client_when_undeclared() -> None:
    assert parse_fragment("<x/>").ns == "jabber:client"


def test_fragment_roundtrip_of_built_element() -> None:
    built = Element("vCard", ns="vcard-temp")
    built.add("FN", text="<Alice>")
    assert parse_fragment(built.to_str()).find_text("FN") == "<Alice>"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain text",
        "<a/><b/>",
        "<a>",
        "<a><!-- comment --></a>",
        "<?pi x?><a/>",
        "<a/></fragment><b/>",
        "<p:a/>",
    ],
)
def test_fragment_rejects_non_single_or_restricted_xml(text: str) -> None:
    with pytest.raises(FragmentError):
        parse_fragment(text)
