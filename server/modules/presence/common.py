"""Helpers shared by the presence handlers: local delivery, roster state, presence building."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tigase_py.server.core.events import DROP
from tigase_py.server.modules.presence.subscription import State
from tigase_py.server.modules.roster.items import is_hidden
from tigase_py.server.modules.roster.push import push_item
from tigase_py.server.stores.roster import ROSTER, RosterItem
from tigase_py.server.xml.element import Element

if TYPE_CHECKING:
    from tigase_py.server.core.module import ModuleContext
    from tigase_py.server.core.session import Session

PRIORITY_MIN = -128
PRIORITY_MAX = 127


def presence(kind: str | None, frm: str, to: str) -> Element:
    attrs = {"from": frm, "to": to}
    if kind is not None:
        attrs["type"] = kind
    return Element("presence", attrs)


def addressed(stanza: Element, frm: str, to: str) -> Element:
    """A copy of ``stanza`` with new addresses (the original may be delivered elsewhere too)."""
    clone = stanza.copy()
    clone.attrs["from"] = frm
    clone.attrs["to"] = to
    return clone


def parse_priority(stanza: Element) -> int:
    text = stanza.find_text("priority")
    if text is None:
        return 0
    try:
        value = int(text.strip())
    except ValueError:
        return 0
    return max(PRIORITY_MIN, min(PRIORITY_MAX, value))


def state_of(item: RosterItem | None) -> State:
    if item is None:
        return State()
    return State(item.subscription, item.ask, item.pending_in, item.approved)


async def save_state(module: ModuleContext, owner: str, contact: str, item: RosterItem | None, state: State) -> None:
    """Store a new subscription state for ``contact`` and push it when the roster shows a change."""
    roster = module.store(ROSTER)
    old = state_of(item)
    if state == old:
        return
    if state == State() and item is not None and is_hidden(item):
        # A request-only row whose request is gone: nothing is left to remember.
        await roster.remove_item(owner, contact)
        return
    base = item or RosterItem(jid=contact)
    updated = RosterItem(
        jid=base.jid,
        name=base.name,
        subscription=state.subscription,
        ask=state.ask,
        pending_in=state.pending_in,
        approved=state.approved,
        groups=base.groups,
    )
    version = await roster.put_item(owner, updated)
    if state.visible() != old.visible() or (item is not None and is_hidden(item) and not is_hidden(updated)):
        push_item(module.sessions, owner, updated, version)
        await module.events.fire("roster.changed", owner.partition("@")[2], owner=owner, item=updated, version=version)


async def user_exists(module: ModuleContext, owner: str) -> bool:
    local, _, domain = owner.partition("@")
    return bool(domain) and await module.storage.users.exists(local, domain)


async def filtered(module: ModuleContext, stanza: Element, owner: str, vhost: str) -> Element | None:
    """Run the ``stanza.deliver`` fold (blocking and the like); None when the stanza is dropped."""
    events = module.events
    if not events.has("stanza.deliver", vhost):
        return stanza
    result = await events.fold("stanza.deliver", stanza, vhost, owner=owner)
    return None if result is DROP else result


async def deliver_to_sessions(module: ModuleContext, stanza: Element, owner: str, vhost: str) -> int:
    """Deliver to every available resource of a local account; return how many got it."""
    targets = [s for s in module.sessions.resources(owner) if s.available]
    if not targets:
        return 0
    allowed = await filtered(module, stanza, owner, vhost)
    if allowed is None:
        return 0
    for session in targets:
        session.send(allowed)
    return len(targets)


def available_resources(module: ModuleContext, owner: str) -> list[Session]:
    return [s for s in module.sessions.resources(owner) if s.available and s.presence is not None]
