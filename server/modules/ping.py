"""XEP-0199: XMPP Ping — answer pings to the server, to one's own account and to local accounts."""

from __future__ import annotations

from tigase_py.server.core.module import IqContext, Module, Spec
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element

module = Module(
    name="ping",
    specs=[Spec("XEP-0199", "2.0.1")],
    features=[ns.PING],
    account_features=[ns.PING],
)


@module.iq("get", ns.PING, "ping", to=("server", "self", "bare"))
async def answer_ping(ctx: IqContext) -> Element:
    return ctx.result()
