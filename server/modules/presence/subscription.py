"""The RFC 6121 Appendix A subscription state machine, as pure functions.

A contact's state, seen from one account, is its subscription (``none``, ``to``, ``from``, ``both``)
plus two pending flags: ``ask`` (the account asked for the contact's presence: "Pending Out") and
``pending_in`` (the contact asked for the account's presence: "Pending In"). ``approved`` records a
pre-approval (RFC 6121 3.4).

``outbound`` handles a subscription stanza the account sends; ``inbound`` one it receives. Both
return a :class:`Transition`: the new state, whether the stanza is routed on (``deliver``), whether a
roster push is due (``push``), and for inbound ``subscribe`` whether the server answers ``subscribed``
on the account's behalf (``auto_reply``).
"""

from __future__ import annotations

from typing import NamedTuple

KINDS = ("subscribe", "subscribed", "unsubscribe", "unsubscribed")


class State(NamedTuple):
    subscription: str = "none"
    ask: bool = False
    pending_in: bool = False
    approved: bool = False

    @property
    def has_to(self) -> bool:
        return self.subscription in ("to", "both")

    @property
    def has_from(self) -> bool:
        return self.subscription in ("from", "both")

    def visible(self) -> tuple[str, bool, bool]:
        """What a roster push shows: pending_in is server-internal."""
        return (self.subscription, self.ask, self.approved)


class Transition(NamedTuple):
    state: State
    deliver: bool
    push: bool
    auto_reply: bool = False


def _join(to: bool, frm: bool) -> str:
    if to and frm:
        return "both"
    if to:
        return "to"
    if frm:
        return "from"
    return "none"


def _result(old: State, new: State, deliver: bool, auto_reply: bool = False) -> Transition:
    return Transition(new, deliver, new.visible() != old.visible(), auto_reply)


def outbound(state: State, kind: str) -> Transition:
    """The account sends ``kind`` to the contact (RFC 6121 A.2)."""
    if kind == "subscribe":
        # A.2.1: always routed; Pending Out is added unless the account already has "to".
        new = state if state.has_to else state._replace(ask=True)
        return _result(state, new, True)
    if kind == "unsubscribe":
        # A.2.2: always routed; drops "to" and Pending Out.
        new = state._replace(subscription=_join(False, state.has_from), ask=False)
        return _result(state, new, True)
    if kind == "subscribed":
        # A.2.3: approves a pending request; otherwise a pre-approval (RFC 6121 3.4), never routed.
        if state.pending_in:
            new = state._replace(subscription=_join(state.has_to, True), pending_in=False, approved=False)
            return _result(state, new, True)
        if state.has_from:
            return Transition(state, False, False)
        return _result(state, state._replace(approved=True), False)
    if kind == "unsubscribed":
        # A.2.4: cancels "from", declines Pending In, withdraws a pre-approval.
        deliver = state.has_from or state.pending_in
        new = state._replace(subscription=_join(state.has_to, False), pending_in=False, approved=False)
        return _result(state, new, deliver)
    raise ValueError(f"not a subscription stanza type: {kind!r}")


def inbound(state: State, kind: str) -> Transition:
    """The account receives ``kind`` from the contact (RFC 6121 A.3)."""
    if kind == "subscribe":
        # A.3.1
        if state.has_from:
            return Transition(state, False, False, auto_reply=True)
        if state.approved:
            new = state._replace(subscription=_join(state.has_to, True), pending_in=False, approved=False)
            return _result(state, new, False, auto_reply=True)
        if state.pending_in:
            return Transition(state, False, False)
        return _result(state, state._replace(pending_in=True), True)
    if kind == "unsubscribe":
        # A.3.2
        if not (state.has_from or state.pending_in):
            return Transition(state, False, False)
        new = state._replace(subscription=_join(state.has_to, False), pending_in=False, approved=False)
        return _result(state, new, True)
    if kind == "subscribed":
        # A.3.3
        if not state.ask:
            return Transition(state, False, False)
        new = state._replace(subscription=_join(True, state.has_from), ask=False)
        return _result(state, new, True)
    if kind == "unsubscribed":
        # A.3.4
        if not (state.ask or state.has_to):
            return Transition(state, False, False)
        new = state._replace(subscription=_join(False, state.has_from), ask=False)
        return _result(state, new, True)
    raise ValueError(f"not a subscription stanza type: {kind!r}")
