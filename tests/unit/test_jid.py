from __future__ import annotations

import pytest

from tigase_py.server import jid


def test_parse_normalises_and_splits() -> None:
    parsed = jid.parse("Alice@Example.COM/Phone")
    assert parsed == jid.Jid("alice", "example.com", "Phone")
    assert str(parsed.bare) == "alice@example.com"
    assert parsed.bare_str == "alice@example.com"
    assert jid.parse("example.com").is_domain


@pytest.mark.parametrize("text", ["@example.com", "a@", "a@b/", "a b@example.com", "a@exa mple.com", "x" * 1024 + "@b"])
def test_invalid_jids_are_refused(text: str) -> None:
    with pytest.raises(jid.JidError):
        jid.parse(text)
    assert jid.try_parse(text) is None


def test_resource_keeps_case_and_slashes() -> None:
    assert jid.parse("a@b/Res/with/Slash").resource == "Res/with/Slash"
