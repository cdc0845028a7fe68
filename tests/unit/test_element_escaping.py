"""Serialised elements survive a parse unchanged (found by tests/fuzz/test_parser_properties.py)."""

from __future__ import annotations

import pytest

from tigase_py.server.xml.element import Element, escape_attr, escape_text
from tigase_py.server.xml.fragment import parse_fragment


@pytest.mark.parametrize("value", ["x\ty", "x\ny", "x\ry", "\r\n", " a  b "])
def test_fuzz_finding_whitespace_in_attribute_values_is_kept_across_a_parse(value: str) -> None:
    element = Element("x", {"v": value}, ns="urn:x")
    assert parse_fragment(element.to_str()).get("v") == value


@pytest.mark.parametrize("text", ["a\rb", "a\r\nb", "\r"])
def test_fuzz_finding_a_carriage_return_in_text_is_kept_across_a_parse(text: str) -> None:
    element = Element("x", ns="urn:x", children=[text])
    assert parse_fragment(element.to_str()).text == text


def test_plain_values_are_returned_as_they_are() -> None:
    assert escape_attr("alice@example.com/phone") == "alice@example.com/phone"
    assert escape_text("hello\nworld\t!") == "hello\nworld\t!"
    assert escape_attr("a\tb") == "a&#9;b" and escape_text("a\rb") == "a&#13;b"
