"""What a case declares and how it says "not supported": ``@spec``, ``NotSupported``, ``require_*``.

Example::

    @spec("XEP-0199", "4.2", category="Core Server")
    async def test_ping_server(target, accounts):
        async with logged_in(target, accounts[0]) as alice:
            await require_feature(alice, "urn:xmpp:ping")
            reply = await alice.iq(f"<iq type='get' id='p1' to='{target.domain}'><ping xmlns='urn:xmpp:ping'/></iq>")
            assert reply.get("type") == "result", transcript_hint(reply)
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.client import WireClient, next_id, stanza_error
from tigase_py.compat_tests.target import Account

CATEGORIES: tuple[str, ...] = (
    "Core Server",
    "Advanced Server",
    "Core IM",
    "Advanced IM",
    "Core Web",
    "Advanced Web",
    "Core Mobile",
    "Advanced Mobile",
)
_SPEC_NAME = re.compile(r"^(RFC\d{4}|XEP-\d{4}|BOSH|WebSocket)$")
F = TypeVar("F", bound=Callable[..., Any])


class NotSupported(pytest.skip.Exception):  # type: ignore[name-defined,misc]
    """The target does not advertise the feature this case checks: reported "not supported", not failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def spec(name: str, section: str, *, category: str | tuple[str, ...] = "Core Server") -> Callable[[F], F]:
    """Name the specification, section and XEP-0479 category (or categories) a case checks."""
    if not _SPEC_NAME.match(name):
        raise ValueError(f"spec name {name!r} must look like RFC6120, XEP-0198, BOSH or WebSocket")
    categories = (category,) if isinstance(category, str) else tuple(category)
    for item in categories:
        if item not in CATEGORIES:
            raise ValueError(f"category {item!r} is not one of {', '.join(CATEGORIES)}")
    return pytest.mark.spec(name, section, categories=categories)


def not_supported(reason: str) -> NotSupported:
    """``raise not_supported("...")`` reads better in a case than the class name."""
    return NotSupported(reason)


_disco_cache: dict[tuple[str, int, str], set[str]] = {}


def clear_cache() -> None:
    _disco_cache.clear()


async def disco_info(client: WireClient, jid: str | None = None) -> ET.Element | None:
    """The disco#info <query/> of ``jid`` (default: the server), or None if the query failed."""
    target = jid or client.target.domain
    query = f"<query xmlns='{ns.DISCO_INFO}'/>"
    reply = await client.iq(f"<iq type='get' id='{next_id('disco')}' to='{target}'>{query}</iq>")
    if reply.get("type") != "result":
        return None
    return reply.find(ns.q(ns.DISCO_INFO, "query"))


async def disco_features(client: WireClient, jid: str | None = None) -> set[str]:
    """Features ``jid`` advertises (cached per target and JID for the run); empty if disco fails."""
    target = jid or client.target.domain
    key = (client.target.host, client.target.port, target)
    if key not in _disco_cache:
        query = await disco_info(client, target)
        found = set() if query is None else {f.get("var", "") for f in query.findall(ns.q(ns.DISCO_INFO, "feature"))}
        _disco_cache[key] = found
    return _disco_cache[key]


async def require_feature(client: WireClient, feature: str, jid: str | None = None) -> None:
    """Raise NotSupported unless ``jid`` (default: the server) lists ``feature`` in disco#info."""
    if feature not in await disco_features(client, jid):
        raise NotSupported(f"{jid or client.target.domain} does not advertise {feature} in disco#info")


def require_stream_feature(client: WireClient, tag: str) -> ET.Element:
    """Return the stream feature ``{ns}tag`` from the last features, or raise NotSupported."""
    found = None if client.features is None else client.features.find(tag)
    if found is None:
        raise NotSupported(f"stream feature {tag} is not offered")
    return found


def require_mechanism(client: WireClient, mechanism: str) -> None:
    if mechanism not in client.mechanisms():
        raise NotSupported(f"SASL mechanism {mechanism} is not offered ({', '.join(client.mechanisms())})")


def need_accounts(accounts: list[Account], count: int) -> list[Account]:
    """The first ``count`` accounts, or skip the case ("skipped") when the target gave fewer."""
    if len(accounts) < count:
        pytest.skip(f"needs {count} accounts, the target has {len(accounts)}")
    return accounts[:count]


def describe(element: ET.Element | None) -> str:
    """A short text for assertion messages: the element as XML, with its stanza error if any."""
    if element is None:
        return "(nothing)"
    text = ET.tostring(element, encoding="unicode")
    condition = stanza_error(element)
    return f"{text[:500]} (error: {condition})" if condition else text[:500]
