"""Client sessions of the running server: list, count, end (XEP-0133 §4.8, 4.17-4.18)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tigase_py.server.admin.args import MAX_ITEMS, VHOST, account, limited, target_vhost
from tigase_py.server.admin.operation import ADMIN_NODE, AdminError, Call, Operation, Param, Rest, Result

if TYPE_CHECKING:
    from tigase_py.server.core.session import Session

KICK_CONDITION = "policy-violation"
KICK_TEXT = "terminated by an administrator"
STRING = {"type": "string"}
SESSION = {
    "type": "object",
    "required": ["jid", "resource", "priority", "available", "peer", "secure"],
    "properties": {
        "jid": STRING, "resource": STRING, "priority": {"type": "integer"}, "available": {"type": "boolean"},
        "peer": STRING, "secure": {"type": "boolean"},
    },
}  # fmt: skip
SESSIONS = {"type": "object", "required": ["sessions"], "properties": {"sessions": {"type": "array", "items": SESSION}}}


def sessions_of(call: Call, vhost: str | None) -> list[Session]:
    sessions = call.deps.live_sessions()
    return sorted(sessions.in_domain(vhost) if vhost is not None else sessions.all(), key=lambda s: s.full)


def online_users(call: Call, vhost: str | None) -> list[str]:
    return sorted({s.bare for s in sessions_of(call, vhost)})


async def online_num(call: Call, args: dict[str, Any]) -> Result:
    return Result(values={"onlineusersnum": len(online_users(call, target_vhost(call, args)))})


async def online_list(call: Call, args: dict[str, Any]) -> Result:
    users = online_users(call, target_vhost(call, args))
    return Result(values={"onlineuserjids": limited(users, args.get("max_items"))})


async def list_sessions(call: Call, args: dict[str, Any]) -> Result:
    rows = [
        {"jid": s.full, "resource": s.jid.resource, "priority": s.priority, "available": s.available,
         "peer": s.peer, "secure": s.secure}
        for s in sessions_of(call, target_vhost(call, args))
    ]  # fmt: skip
    return Result(f"{len(rows)} session(s)", rows=rows)


async def end_session(call: Call, args: dict[str, Any]) -> Result:
    sessions = call.deps.live_sessions()
    ended: list[str] = []
    for text in args["accountjids"]:
        user = account(call, text, allow_resource=True)
        found = [sessions.get(user)] if user.resource else sessions.resources(user.bare_str)
        for session in found:
            if session is not None:
                session.writer.close_with_error(KICK_CONDITION, KICK_TEXT)
                ended.append(session.full)
    if not ended:
        raise AdminError(f"no session of {', '.join(args['accountjids'])}", "item-not-found")
    return Result(f"Ended {len(ended)} session(s)", values={"ended": ended})


def operations() -> list[Operation]:
    accounts = Param(
        "accountjids", "jid-multi", "The Jabber ID(s): a full JID ends one session, a bare JID all of them",
        required=True, rest="full_jid", positional=True,
    )  # fmt: skip
    return [
        Operation(
            "end-user-session", "End User Session", "Disconnect sessions (a bare JID ends all of them)",
            end_session, (accounts,), node=ADMIN_NODE + "end-user-session", live_only=True, returns=("ended",),
            rest=Rest("DELETE", "/api/v1/sessions/{full_jid:.+}", "kickSession", "sessions",
                      errors={"jid-malformed": 404}),
        ),
        Operation(
            "get-online-users-num", "Get Number of Online Users", "Count online accounts", online_num, (VHOST,),
            node=ADMIN_NODE + "get-online-users-num", scope="read", live_only=True, returns=("onlineusersnum",),
        ),
        Operation(
            "get-online-users-list", "Get List of Online Users", "List online accounts", online_list,
            (MAX_ITEMS, VHOST), node=ADMIN_NODE + "get-online-users-list", scope="read", live_only=True,
            returns=("onlineuserjids",),
        ),
        Operation(
            "list-sessions", "List Sessions", "Every bound client session", list_sessions, (VHOST,),
            scope="read", live_only=True, columns=tuple(SESSION["required"]),
            rest=Rest("GET", "/api/v1/sessions", "listSessions", "sessions", response=SESSIONS,
                      answer=lambda result: {"sessions": result.rows}),
        ),
    ]  # fmt: skip
