"""Roster items on the wire (RFC 6121 section 2.1): parsing roster sets, rendering items and pushes."""

from __future__ import annotations

import secrets

from tigase_py.server import jid as jids
from tigase_py.server.errors import StanzaError
from tigase_py.server.stores.roster import RosterItem
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element

MAX_NAME_LENGTH = 1023
MAX_GROUP_LENGTH = 1023


def is_hidden(item: RosterItem) -> bool:
    """An item that only records a contact's pending request (RFC 6121 3.1.3), never shown to clients.

    The server creates such a row (with ``name`` None) when a subscription request arrives from someone
    not in the roster; items the user sets always carry a name, "" when none was given. The row becomes
    a real item once the user sets, approves or subscribes to the contact.
    """
    return (
        item.subscription == "none"
        and not item.ask
        and not item.approved
        and item.pending_in
        and item.name is None
    )


def render_item(item: RosterItem, remove: bool = False) -> Element:
    element = Element("item", {"jid": item.jid})
    element.ns = ns.ROSTER
    if remove:
        element.attrs["subscription"] = "remove"
        return element
    if item.name:
        element.attrs["name"] = item.name
    element.attrs["subscription"] = item.subscription
    if item.ask:
        element.attrs["ask"] = "subscribe"
    if item.approved:
        element.attrs["approved"] = "true"
    for group in item.groups:
        element.add("group", text=group)
    return element


def render_query(items: list[RosterItem], version: int | None) -> Element:
    query = Element("query", ns=ns.ROSTER)
    if version is not None:
        query.attrs["ver"] = str(version)
    for item in items:
        if not is_hidden(item):
            query.append(render_item(item))
    return query


def render_push(to: str, owner: str, item: RosterItem, version: int, remove: bool = False) -> Element:
    iq = Element("iq", {"type": "set", "id": f"push-{secrets.token_hex(6)}", "to": to, "from": owner})
    query = iq.add("query", {"ver": str(version)}, ns=ns.ROSTER)
    query.append(render_item(item, remove))
    return iq


class RosterSet:
    """A validated roster set: the contact's bare JID, and either new name/groups or a removal."""

    __slots__ = ("jid", "name", "groups", "remove")

    def __init__(self, jid: str, name: str | None, groups: tuple[str, ...], remove: bool) -> None:
        self.jid = jid
        self.name = name
        self.groups = groups
        self.remove = remove


def parse_set(query: Element, owner: str) -> RosterSet:
    """Validate a roster set per RFC 6121 2.3.3; raise StanzaError naming what is wrong."""
    items = query.find_all("item", ns.ROSTER)
    if len(items) != 1 or len(list(query.elements())) != 1:
        raise StanzaError("bad-request", "a roster set must contain exactly one item")
    item = items[0]
    raw_jid = item.get("jid")
    if not raw_jid:
        raise StanzaError("bad-request", "the item has no jid")
    try:
        contact = jids.parse(raw_jid)
    except jids.JidError:
        raise StanzaError("jid-malformed", "the item jid is not a valid JID") from None
    contact_text = str(contact)
    if contact.bare_str == owner and not contact.resource:
        raise StanzaError("not-acceptable", "you cannot add yourself to your roster")
    if item.get("subscription") == "remove":
        return RosterSet(contact_text, None, (), True)
    name = item.get("name")
    if name is not None and len(name) > MAX_NAME_LENGTH:
        raise StanzaError("not-acceptable", "the item name is too long")
    groups: list[str] = []
    for group in item.find_all("group", ns.ROSTER):
        text = group.text
        if not text.strip():
            raise StanzaError("not-acceptable", "empty group name (RFC 6121 2.3.3)")
        if len(text) > MAX_GROUP_LENGTH:
            raise StanzaError("not-acceptable", "group name too long")
        if text in groups:
            raise StanzaError("bad-request", f"duplicate group {text!r}")
        groups.append(text)
    return RosterSet(contact_text, name or None, tuple(groups), False)
