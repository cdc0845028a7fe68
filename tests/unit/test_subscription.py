"""Every row of the RFC 6121 Appendix A subscription tables, plus pre-approval (RFC 6121 3.4)."""

from __future__ import annotations

import pytest

from tigase_py.server.modules.presence.subscription import State, Transition, inbound, outbound

# The nine states of Appendix A.1, by their RFC names.
STATES: dict[str, State] = {
    "None": State("none"),
    "None + Pending Out": State("none", ask=True),
    "None + Pending In": State("none", pending_in=True),
    "None + Pending Out+In": State("none", ask=True, pending_in=True),
    "To": State("to"),
    "To + Pending In": State("to", pending_in=True),
    "From": State("from"),
    "From + Pending Out": State("from", ask=True),
    "Both": State("both"),
}
SAME = "no state change"

# (existing state, new state) — A.2.1 outbound subscribe; every row is routed to the contact.
OUT_SUBSCRIBE = [
    ("None", "None + Pending Out"),
    ("None + Pending Out", SAME),
    ("None + Pending In", "None + Pending Out+In"),
    ("None + Pending Out+In", SAME),
    ("To", SAME),
    ("To + Pending In", SAME),
    ("From", "From + Pending Out"),
    ("From + Pending Out", SAME),
    ("Both", SAME),
]

# A.2.2 outbound unsubscribe; always routed.
OUT_UNSUBSCRIBE = [
    ("None", SAME),
    ("None + Pending Out", "None"),
    ("None + Pending In", SAME),
    ("None + Pending Out+In", "None + Pending In"),
    ("To", "None"),
    ("To + Pending In", "None + Pending In"),
    ("From", SAME),
    ("From + Pending Out", "From"),
    ("Both", "From"),
]

# A.2.3 outbound subscribed: (existing, new, routed?). Rows without a pending request and without
# "from" become a pre-approval (tested separately).
OUT_SUBSCRIBED = [
    ("None + Pending In", "From", True),
    ("None + Pending Out+In", "From + Pending Out", True),
    ("To + Pending In", "Both", True),
    ("From", SAME, False),
    ("From + Pending Out", SAME, False),
    ("Both", SAME, False),
]

# A.2.4 outbound unsubscribed: (existing, new, routed?).
OUT_UNSUBSCRIBED = [
    ("None", SAME, False),
    ("None + Pending Out", SAME, False),
    ("None + Pending In", "None", True),
    ("None + Pending Out+In", "None + Pending Out", True),
    ("To", SAME, False),
    ("To + Pending In", "To", True),
    ("From", "None", True),
    ("From + Pending Out", "None + Pending Out", True),
    ("Both", "To", True),
]

# A.3.1 inbound subscribe: (existing, deliver?, new, auto-reply subscribed?).
IN_SUBSCRIBE = [
    ("None", True, "None + Pending In", False),
    ("None + Pending Out", True, "None + Pending Out+In", False),
    ("None + Pending In", False, SAME, False),
    ("None + Pending Out+In", False, SAME, False),
    ("To", True, "To + Pending In", False),
    ("To + Pending In", False, SAME, False),
    ("From", False, SAME, True),
    ("From + Pending Out", False, SAME, True),
    ("Both", False, SAME, True),
]

# A.3.2 inbound unsubscribe: (existing, deliver?, new).
IN_UNSUBSCRIBE = [
    ("None", False, SAME),
    ("None + Pending Out", False, SAME),
    ("None + Pending In", True, "None"),
    ("None + Pending Out+In", True, "None + Pending Out"),
    ("To", False, SAME),
    ("To + Pending In", True, "To"),
    ("From", True, "None"),
    ("From + Pending Out", True, "None + Pending Out"),
    ("Both", True, "To"),
]

# A.3.3 inbound subscribed.
IN_SUBSCRIBED = [
    ("None", False, SAME),
    ("None + Pending Out", True, "To"),
    ("None + Pending In", False, SAME),
    ("None + Pending Out+In", True, "To + Pending In"),
    ("To", False, SAME),
    ("To + Pending In", False, SAME),
    ("From", False, SAME),
    ("From + Pending Out", True, "Both"),
    ("Both", False, SAME),
]

# A.3.4 inbound unsubscribed.
IN_UNSUBSCRIBED = [
    ("None", False, SAME),
    ("None + Pending Out", True, "None"),
    ("None + Pending In", False, SAME),
    ("None + Pending Out+In", True, "None + Pending In"),
    ("To", True, "None"),
    ("To + Pending In", True, "None + Pending In"),
    ("From", False, SAME),
    ("From + Pending Out", True, "From"),
    ("Both", True, "From"),
]


def expected(existing: str, new: str) -> State:
    return STATES[existing] if new == SAME else STATES[new]


def check_push(before: State, result: Transition) -> None:
    assert result.push == (result.state.visible() != before.visible())


@pytest.mark.parametrize(("existing", "new"), OUT_SUBSCRIBE)
def test_outbound_subscribe(existing: str, new: str) -> None:
    result = outbound(STATES[existing], "subscribe")
    assert result.state == expected(existing, new)
    assert result.deliver
    check_push(STATES[existing], result)


@pytest.mark.parametrize(("existing", "new"), OUT_UNSUBSCRIBE)
def test_outbound_unsubscribe(existing: str, new: str) -> None:
    result = outbound(STATES[existing], "unsubscribe")
    assert result.state == expected(existing, new)
    assert result.deliver
    check_push(STATES[existing], result)


@pytest.mark.parametrize(("existing", "new", "routed"), OUT_SUBSCRIBED)
def test_outbound_subscribed(existing: str, new: str, routed: bool) -> None:
    result = outbound(STATES[existing], "subscribed")
    assert result.state == expected(existing, new)
    assert result.deliver is routed
    assert result.push is routed
    assert not result.state.approved


@pytest.mark.parametrize(("existing", "new", "routed"), OUT_UNSUBSCRIBED)
def test_outbound_unsubscribed(existing: str, new: str, routed: bool) -> None:
    result = outbound(STATES[existing], "unsubscribed")
    assert result.state == expected(existing, new)
    assert result.deliver is routed
    check_push(STATES[existing], result)


@pytest.mark.parametrize(("existing", "deliver", "new", "auto"), IN_SUBSCRIBE)
def test_inbound_subscribe(existing: str, deliver: bool, new: str, auto: bool) -> None:
    result = inbound(STATES[existing], "subscribe")
    assert result.state == expected(existing, new)
    assert result.deliver is deliver
    assert result.auto_reply is auto
    assert not result.push  # Pending In is not shown in roster pushes


@pytest.mark.parametrize(("existing", "deliver", "new"), IN_UNSUBSCRIBE)
def test_inbound_unsubscribe(existing: str, deliver: bool, new: str) -> None:
    result = inbound(STATES[existing], "unsubscribe")
    assert result.state == expected(existing, new)
    assert result.deliver is deliver
    check_push(STATES[existing], result)


@pytest.mark.parametrize(("existing", "deliver", "new"), IN_SUBSCRIBED)
def test_inbound_subscribed(existing: str, deliver: bool, new: str) -> None:
    result = inbound(STATES[existing], "subscribed")
    assert result.state == expected(existing, new)
    assert result.deliver is deliver
    assert result.push is deliver


@pytest.mark.parametrize(("existing", "deliver", "new"), IN_UNSUBSCRIBED)
def test_inbound_unsubscribed(existing: str, deliver: bool, new: str) -> None:
    result = inbound(STATES[existing], "unsubscribed")
    assert result.state == expected(existing, new)
    assert result.deliver is deliver
    assert result.push is deliver


@pytest.mark.parametrize("existing", ["None", "None + Pending Out", "To"])
def test_pre_approval_recorded(existing: str) -> None:
    result = outbound(STATES[existing], "subscribed")
    assert result.state == STATES[existing]._replace(approved=True)
    assert not result.deliver
    assert result.push


@pytest.mark.parametrize(
    ("existing", "new"), [("None", "From"), ("None + Pending Out", "From + Pending Out"), ("To", "Both")]
)
def test_pre_approval_consumed_by_inbound_subscribe(existing: str, new: str) -> None:
    result = inbound(STATES[existing]._replace(approved=True), "subscribe")
    assert result.state == STATES[new]
    assert result.auto_reply
    assert not result.deliver
    assert result.push


def test_pre_approval_withdrawn_by_unsubscribed() -> None:
    result = outbound(State("none", approved=True), "unsubscribed")
    assert result.state == State("none")
    assert not result.deliver
    assert result.push


def test_pre_approval_cleared_when_contact_unsubscribes() -> None:
    result = inbound(State("to", approved=True), "unsubscribe")
    assert result.state == State("to", approved=True)
    assert not result.deliver


@pytest.mark.parametrize("kind", ["probe", "available", ""])
def test_rejects_non_subscription_types(kind: str) -> None:
    with pytest.raises(ValueError):
        outbound(State(), kind)
    with pytest.raises(ValueError):
        inbound(State(), kind)
