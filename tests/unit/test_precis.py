"""PRECIS profiles of JID parts (RFC 8265, RFC 7622): OpaqueString resources, UsernameCaseMapped localparts."""

from __future__ import annotations

import pytest

from tigase_py.server import jid as jids
from tigase_py.server import precis


@pytest.mark.parametrize(
    "resource",
    [
        "phone\u200b",  # ZERO WIDTH SPACE (Cf, default ignorable): the case
        "a\u200db",  # ZERO WIDTH JOINER outside a virama context
        "tab\x7f",  # DEL
        "nel\u0085",  # a C1 control that XML 1.0 lets through
        "line\u2028sep",  # LINE SEPARATOR (Zl)
        "private\ue000",  # private use
        "var\ufe0f",  # variation selector (default ignorable)
        "\u115f",  # HANGUL CHOSEONG FILLER (Lo but default ignorable)
    ],
)
def test_resource_refuses_disallowed_code_points(resource: str) -> None:
    with pytest.raises(jids.JidError):
        jids.parse(f"alice@localhost/{resource}")


def test_resource_is_nfc_normalised_and_non_ascii_spaces_become_spaces() -> None:
    assert jids.parse("alice@localhost/cafe\u0301").resource == "caf\u00e9"
    assert jids.parse("alice@localhost/a\u3000b").resource == "a b"
    assert jids.parse("alice@localhost/Laptop ♥ ü").resource == "Laptop ♥ ü"  # symbols and case kept


def test_join_control_after_a_virama_is_allowed() -> None:
    assert precis.opaque_string("\u0915\u094d\u200d") == "\u0915\u094d\u200d"


@pytest.mark.parametrize("local", ["al ice", "a\u200bb", "caf\u00e9\u2665", "\ufb01sh", "a\x01"])
def test_localpart_refuses_what_usernamecasemapped_disallows(local: str) -> None:
    with pytest.raises(jids.JidError):
        jids.parse(f"{local}@localhost")


def test_localpart_width_and_case_mapping() -> None:
    assert jids.parse("\uff21lice@localhost").local == "alice"  # FULLWIDTH A
    assert jids.parse("ÉLODIE@localhost").local == "élodie"
    assert jids.parse("E\u0301lodie@localhost").local == "\u00e9lodie"
