"""Presence-storm setup: subscription requests and approvals are seen even when a chunk cuts a tag."""

from __future__ import annotations

from typing import Any, cast

from tigase_py.compat_tests.load import setup
from tigase_py.compat_tests.load.client import Session


class RecordingWriter:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)


def session_for(jid: str) -> tuple[Session, RecordingWriter]:
    writer = RecordingWriter()
    session = Session(cast(Any, None), cast(Any, writer), "example.test")
    session.jid = jid
    return session, writer


STREAM = (
    b"<presence from='bob@example.test/r' to='alice@example.test/r' type='subscribe'/>"
    b"<presence from='carol@example.test' to='alice@example.test' type='subscribed'/>"
    b"<iq type='set'><query xmlns='jabber:iq:roster'><item jid='dave@example.test' subscription='to'/></query></iq>"
    b"<presence from='erin@example.test/x' to='alice@example.test/r'/>"
)


def test_every_cut_position_gives_the_same_approvals_and_answers() -> None:
    whole, whole_writer = session_for("alice@example.test/r")
    setup._approver(whole, STREAM)
    assert whole.approved == {"carol@example.test", "dave@example.test", "erin@example.test"}
    assert whole_writer.written == [b"<presence to='bob@example.test' type='subscribed'/>"]
    for cut in range(1, len(STREAM)):
        session, writer = session_for("alice@example.test/r")
        setup._approver(session, STREAM[:cut])
        setup._approver(session, STREAM[cut:])
        assert session.approved == whole.approved, cut
        assert writer.written == whole_writer.written, cut
        assert session.partial_tag == b""


def test_a_runaway_tag_is_not_kept_forever() -> None:
    session, _ = session_for("alice@example.test/r")
    setup._approver(session, b"<presence " + b"x" * (setup.MAX_PARTIAL_TAG + 10))
    assert session.partial_tag == b""
