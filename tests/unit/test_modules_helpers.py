"""Pure helpers of the disco, time, version, last, private, blocking and register modules."""

from __future__ import annotations

import datetime

import pytest

from tigase_py.server import __version__
from tigase_py.server import jid as jids
from tigase_py.server.core.module import Identity
from tigase_py.server.errors import StanzaError
from tigase_py.server.modules import blocking, disco, last, private, register, version
from tigase_py.server.modules import time as entity_time
from tigase_py.server.xml import ns
from tigase_py.server.xml.fragment import parse_fragment


def test_disco_info_query_sorts_and_dedupes_features() -> None:
    query = disco.info_query([Identity("server", "im", "x")], ["b", "a", "b"], node="n")
    assert query.to_str() == (
        f'<query xmlns="{ns.DISCO_INFO}" node="n"><identity category="server" type="im" name="x"/>'
        '<feature var="a"/><feature var="b"/></query>'
    )


@pytest.mark.parametrize(
    ("minutes", "expected"), [(0, "+00:00"), (120, "+02:00"), (-330, "-05:30"), (345, "+05:45")]
)
def test_time_format_tzo_signs_and_pads(minutes: int, expected: str) -> None:
    assert entity_time.format_tzo(datetime.timedelta(minutes=minutes)) == expected


def test_time_payload_utc_ends_with_z() -> None:
    now = datetime.datetime(2024, 5, 1, 12, 30, 5, tzinfo=datetime.UTC)
    payload = entity_time.time_payload(now)
    assert payload.find_text("utc") == "2024-05-01T12:30:05Z"
    assert payload.find_text("tzo") is not None


def test_version_query_hides_os_by_default() -> None:
    query = version.version_query(show_os=False)
    assert query.find_text("name") == "tigase-py"
    assert query.find_text("version") == __version__
    assert query.find("os") is None
    assert version.version_query(show_os=True).find("os") is not None


def test_last_query_clamps_negative_and_carries_status() -> None:
    assert last.last_query(-5).get("seconds") == "0"
    assert last.last_query(42, "gone fishing").text == "gone fishing"


def test_private_requested_element_rejects_reserved_and_many() -> None:
    ok = parse_fragment("<query xmlns='jabber:iq:private'><a xmlns='urn:a'/></query>")
    assert private.requested_element(ok).ns == "urn:a"
    for payload in ("<x xmlns='jabber:client'/>", "<x xmlns='jabber:iq:private'/>", "<a xmlns='u:a'/><b xmlns='u:b'/>"):
        query = parse_fragment(f"<query xmlns='jabber:iq:private'>{payload}</query>")
        with pytest.raises(StanzaError) as caught:
            private.requested_element(query)
        assert caught.value.condition == "not-acceptable"


def test_private_standalone_declares_inherited_namespace() -> None:
    outer = parse_fragment("<query xmlns='urn:q'><inner><leaf/></inner></query>")
    inner = outer.first_child()
    assert inner is not None and "xmlns" not in inner.attrs
    copied = private.standalone(inner)
    assert parse_fragment(copied.to_str()).ns == "urn:q"
    assert "xmlns" not in inner.attrs


@pytest.mark.parametrize(
    ("entry", "other", "blocked"),
    [
        ("bob@x", "bob@x", True),
        ("bob@x", "bob@x/phone", True),
        ("bob@x/phone", "bob@x/laptop", False),
        ("bob@x/phone", "bob@x", False),
        ("x", "anyone@x/r", True),
        ("x", "x", True),
        ("x/r", "x/r", True),
        ("x", "bob@y", False),
    ],
)
def test_blocking_match_rules(entry: str, other: str, blocked: bool) -> None:
    assert blocking.is_blocked(frozenset({entry}), jids.parse(other)) is blocked


def test_blocking_parse_items_normalises_and_rejects() -> None:
    command = parse_fragment(
        f"<block xmlns='{ns.BLOCKING}'><item jid='Bob@X'/><item jid='bob@x'/><item jid='y'/></block>"
    )
    assert blocking.parse_items(command) == ["bob@x", "y"]
    bad = parse_fragment(f"<block xmlns='{ns.BLOCKING}'><item jid='@'/></block>")
    with pytest.raises(StanzaError) as caught:
        blocking.parse_items(bad)
    assert caught.value.condition == "jid-malformed"


def test_blocking_error_carries_app_condition() -> None:
    error = blocking.blocked_error().to_element()
    assert error.find("not-acceptable", ns.STANZAS_ERR) is not None
    assert error.find("blocked", ns.BLOCKING_ERRORS) is not None


def test_register_form_for_new_and_registered() -> None:
    fresh = register.registration_form()
    assert fresh.find("instructions") is not None and fresh.find("registered") is None
    known = register.registration_form("alice")
    assert known.find("registered") is not None and known.find_text("username") == "alice"


@pytest.mark.parametrize(
    ("payload", "condition"),
    [("<username>a</username>", "not-acceptable"), ("<username>a b</username><password>p</password>", "jid-malformed")],
)
def test_register_read_credentials_refusals(payload: str, condition: str) -> None:
    query = parse_fragment(f"<query xmlns='{ns.REGISTER}'>{payload}</query>")
    with pytest.raises(StanzaError) as caught:
        register.read_credentials(query)
    assert caught.value.condition == condition


def test_register_read_credentials_normalises_username() -> None:
    query = parse_fragment(f"<query xmlns='{ns.REGISTER}'><username>Alice</username><password>p</password></query>")
    assert register.read_credentials(query) == ("alice", "p")


def test_module_names_match_files() -> None:
    for python_module in (blocking, disco, last, private, register, version, entity_time):
        assert python_module.module.name == python_module.__name__.rsplit(".", 1)[1]
