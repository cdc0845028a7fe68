"""Event notifications (XEP-0060 7.1.2, 7.2.2, 8.4.2, 8.5.2): one headline message per subscription.

Notifications go to online subscribers only: a headline message to an offline account is dropped by
the router, never stored.
"""

from __future__ import annotations

import itertools

from tigase_py.server.core.module import StanzaContext
from tigase_py.server.modules.pubsub.declaration import NS_EVENT
from tigase_py.server.stores.pubsub import PUBSUB
from tigase_py.server.xml.element import Element

_ids = itertools.count(1)


async def notify(ctx: StanzaContext, node: str, event: Element) -> int:
    """Send ``<event>event</event>`` to every subscribed JID of ``node``; return how many were sent."""
    service = ctx.to.domain
    sent = 0
    for subscription in await ctx.store(PUBSUB).subscriptions(service, node):
        if subscription.state != "subscribed":
            continue
        message = Element("message", {"from": service, "to": subscription.jid, "type": "headline"})
        message.attrs["id"] = f"pubsub-{next(_ids)}"
        message.add("event", ns=NS_EVENT).append(event.copy())
        await ctx.route(message)
        sent += 1
    return sent
