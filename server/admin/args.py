"""Parsing of the arguments operations share: account JIDs, domains, the vhost an operation works on."""

from __future__ import annotations

from typing import Any

from tigase_py.server import jid as jids
from tigase_py.server.admin.operation import AdminError, Call, Param

VHOST = Param("vhost", "text-single", "Virtual host (default: the one addressed)")
LIST_SIZES = ("25", "50", "75", "100", "150", "200", "all")
MAX_ITEMS = Param("max_items", "list-single", "Maximum number of items to show", choices=LIST_SIZES, default="all")


def not_served(domain: str) -> AdminError:
    return AdminError(
        f"{domain} is not served here",
        "item-not-found",
        hint=f"{domain} is not a virtual host of this server; add it with `tigase-py vhost add {domain}`",
    )


def target_vhost(call: Call, args: dict[str, Any]) -> str | None:
    """The ``vhost`` argument, else the vhost addressed, else None (every vhost)."""
    vhost = args.get("vhost") or call.vhost
    if vhost is not None and vhost not in call.deps.served():
        raise not_served(vhost)
    return vhost


def account(call: Call, text: str, allow_resource: bool = False) -> jids.Jid:
    """Parse an account JID and check that its domain is served here."""
    try:
        parsed = jids.parse(text.strip())
    except (jids.JidError, ValueError):
        raise AdminError(f"invalid JID {text!r}", "jid-malformed") from None
    if not parsed.local or (parsed.resource and not allow_resource):
        raise AdminError(f"{text!r} is not an account JID", "jid-malformed")
    if parsed.domain not in call.deps.served():
        raise not_served(parsed.domain)
    return parsed


def domain(text: str) -> str:
    try:
        parsed = jids.parse(text.strip())
    except (jids.JidError, ValueError):
        raise AdminError(f"invalid domain {text!r}", "jid-malformed") from None
    if not parsed.is_domain:
        raise AdminError(f"{text!r} is not a domain", "jid-malformed")
    return parsed.domain


def limited(items: list[str], max_items: str | None) -> list[str]:
    if max_items and max_items != "all":
        return items[: int(max_items)]
    return items


def text_of(value: object) -> str:
    """A text-multi argument (list of lines or one string) as one string."""
    return "\n".join(str(line) for line in value) if isinstance(value, list) else str(value)
