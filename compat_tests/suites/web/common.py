"""Shared by the web cases: SASL over any transport, stream-feature helpers, a recorded transcript."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable

import scramp

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe
from tigase_py.compat_tests.client import WireClient, child_condition, local_name
from tigase_py.compat_tests.suites.advanced.helpers import body_is, unique
from tigase_py.compat_tests.target import Account

Step = Callable[[str], Awaitable[ET.Element]]  # send one SASL element, return the server's SASL answer


def mechanisms(features: ET.Element | None) -> list[str]:
    if features is None:
        return []
    found = features.findall(f"{{{ns.SASL}}}mechanisms/{{{ns.SASL}}}mechanism")
    return [(m.text or "").strip() for m in found]


async def sasl(step: Step, features: ET.Element | None, account: Account) -> None:
    """Authenticate with SCRAM-SHA-256, SCRAM-SHA-1 or PLAIN, whichever is offered first in that order."""
    offered = mechanisms(features)
    mechanism = next((m for m in ("SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN") if m in offered), None)
    if mechanism is None:
        raise AssertionError(f"no usable SASL mechanism among {offered}")
    if mechanism == "PLAIN":
        token = base64.b64encode(f"\0{account.local}\0{account.password}".encode()).decode()
        answer = await step(f"<auth xmlns='{ns.SASL}' mechanism='PLAIN'>{token}</auth>")
    else:
        scram = scramp.ScramClient([mechanism], account.local, account.password)
        first = base64.b64encode(scram.get_client_first().encode()).decode()
        answer = await step(f"<auth xmlns='{ns.SASL}' mechanism='{mechanism}'>{first}</auth>")
        if local_name(answer.tag) == "challenge":
            scram.set_server_first(base64.b64decode(answer.text or "").decode())
            final = base64.b64encode(scram.get_client_final().encode()).decode()
            answer = await step(f"<response xmlns='{ns.SASL}'>{final}</response>")
    if local_name(answer.tag) != "success":
        raise AssertionError(f"SASL ended with <{local_name(answer.tag)}/> ({child_condition(answer, ns.SASL)})")


async def message_round_trip(
    send: Callable[[str], Awaitable[None]],
    expect: Callable[[Callable[[ET.Element], bool]], Awaitable[ET.Element]],
    jid: str,
    bob: WireClient,
    transport: str,
) -> None:
    """A web client bound as ``jid`` (``send``/``expect`` over its ``transport``) and TCP client ``bob``
    exchange chat messages both ways, each stamped with the sender's full JID."""
    out, back = unique(f"over {transport}"), unique(f"back to {transport}")
    await send(f"<message xmlns='{ns.CLIENT}' to='{bob.jid}' type='chat'><body>{out}</body></message>")
    received = await bob.expect(body_is(out))
    assert received.get("from") == jid, describe(received)
    await bob.send(f"<message to='{jid}' type='chat'><body>{back}</body></message>")
    answer = await expect(lambda el: el.findtext(ns.q(ns.CLIENT, "body")) == back)
    assert answer.get("from") == bob.jid, describe(answer)


def bind_request(stanza_id: str) -> str:
    return f"<iq type='set' id='{stanza_id}' xmlns='{ns.CLIENT}'><bind xmlns='{ns.BIND}'/></iq>"


def bound_jid(reply: ET.Element | None) -> str | None:
    if reply is None or reply.get("type") != "result":
        return None
    return reply.findtext(f"{{{ns.BIND}}}bind/{{{ns.BIND}}}jid")
