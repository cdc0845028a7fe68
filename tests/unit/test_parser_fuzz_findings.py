"""Regressions found by fuzzing the stream parser (tests/fuzz): the outcome must not depend on reads."""

from __future__ import annotations

import pytest

from tests.fuzz.recording import HEADER, run


@pytest.mark.parametrize("data", [b"U\x00", b"<\x00", b"\x00\x00", b"  x<stream:stream>", HEADER + b"<a>\x00</a>"])
def test_fuzz_finding_a_nul_byte_or_text_before_the_header_fails_in_every_split(data: bytes) -> None:
    whole = run([data])
    assert whole[1] == "not-well-formed"
    for split in range(1, len(data)):
        assert run([data[:split], data[split:]]) == whole


def test_fuzz_finding_stanzas_before_a_nul_byte_still_come_out() -> None:
    events, error = run([HEADER + b"<a/><b/>\x00<c/>"])
    assert error == "not-well-formed"
    assert [event[2] for event in events[1:]] == [b"<a/>", b"<b/>"]  # type: ignore[index]


@pytest.mark.parametrize("split", range(1, 4))
def test_fuzz_finding_a_declaration_split_across_reads_is_still_restricted_xml(split: int) -> None:
    tail = b"<!DOCTYPE x>"
    assert run([HEADER + tail[:split], tail[split:]])[1] == "restricted-xml"
    assert run([HEADER + tail])[1] == "restricted-xml"


def test_whitespace_before_a_header_without_xml_declaration_is_allowed() -> None:
    events, error = run([b" \r\n", b"\t" + HEADER[len(b"<?xml version='1.0'?>") :]])
    assert error == "" and events[0][0] == "open"  # type: ignore[index]
