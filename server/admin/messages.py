"""Messages from the server: a headline to every online session (XEP-0133 §4.23 announce) and one
message to one user."""

from __future__ import annotations

import uuid
from typing import Any

from tigase_py.server import jid as jids
from tigase_py.server.admin.args import VHOST, target_vhost, text_of
from tigase_py.server.admin.operation import ADMIN_NODE, AdminError, Call, Operation, Param, Rest, Result
from tigase_py.server.admin.sessions import sessions_of
from tigase_py.server.xml.element import Element

MESSAGE_TYPES = ("normal", "chat", "headline")
DELIVERED = {"type": "object", "required": ["delivered"], "properties": {"delivered": {"type": "integer"}}}


def message(sender: str, to: str, body: str, kind: str, subject: str | None = None) -> Element:
    stanza = Element("message", {"from": sender, "to": to, "type": kind, "id": uuid.uuid4().hex})
    if subject:
        stanza.add("subject", text=subject)
    stanza.add("body", text=body)
    return stanza


async def announce(call: Call, args: dict[str, Any]) -> Result:
    sessions = sessions_of(call, target_vhost(call, args))
    text = text_of(args["announcement"])
    for session in sessions:
        session.send(message(session.vhost, session.full, text, "headline", args.get("subject")))
    return Result(f"Announcement sent to {len(sessions)} session(s)", values={"delivered": len(sessions)})


async def send_message(call: Call, args: dict[str, Any]) -> Result:
    deliver = call.deps.live_deliver()
    try:
        to = jids.parse(args["to"].strip())
    except (jids.JidError, ValueError):
        raise AdminError(f"invalid JID {args['to']!r}", "jid-malformed") from None
    served = call.deps.served()
    if to.domain not in served or not to.local:
        raise AdminError(f"{to} is not a user of a vhost served here")
    sender = args.get("from") or call.vhost or to.domain
    parsed = jids.try_parse(sender)
    if parsed is None or parsed.domain not in served:
        raise AdminError(f"{sender} is not an address of this server", "not-allowed")
    await deliver(message(str(parsed), str(to), text_of(args["body"]), args["type"], args.get("subject")))
    return Result(f"Message sent to {to}", values={"to": str(to)})


def operations() -> list[Operation]:
    return [
        Operation(
            "announce", "Send Announcement to Online Users", "Send a headline message to every online session",
            announce,
            (Param("subject", "text-single", "Subject"),
             Param("announcement", "text-multi", "Announcement", required=True, rest="body"), VHOST),
            node=ADMIN_NODE + "announce", live_only=True, returns=("delivered",),
            rest=Rest("POST", "/api/v1/broadcast", "broadcast", "messages", response=DELIVERED,
                      answer=lambda result: {"delivered": result.values["delivered"]}, json={"vhost": "Domain"}),
        ),
        Operation(
            "send-message", "Send a Message", "Send a message from the server (or one of its addresses) to a user",
            send_message,
            (Param("to", "jid-single", "Recipient", required=True),
             Param("body", "text-multi", "Body", required=True),
             Param("subject", "text-single", "Subject"),
             Param("type", "list-single", "Message type", choices=MESSAGE_TYPES, default="chat"),
             Param("from", "jid-single", "Sender (default: the server)")),
            live_only=True, returns=("to",),
            rest=Rest("POST", "/api/v1/messages", "sendMessage", "messages", 202),
        ),
    ]  # fmt: skip
