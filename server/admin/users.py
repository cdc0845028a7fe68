"""Accounts: add, delete, change password, list, count, exists, info (XEP-0133 §4.1-4.7, 4.13-4.16).

Creating and deleting an account fires ``user.created``/``user.deleted`` (the registered-users gauge,
the modules' per-user data and open sessions follow), whichever door the operation came through.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from tigase_py.server import jid as jids
from tigase_py.server.admin.args import MAX_ITEMS, VHOST, account, limited, target_vhost
from tigase_py.server.admin.operation import ADMIN_NODE, AdminError, Call, Operation, Param, Rest, Result
from tigase_py.server.storage.errors import UserExists, UserNotFound

ACCOUNT = Param("accountjid", "jid-single", "The Jabber ID for the account", required=True, rest="jid", positional=True)
ACCOUNTS = Param("accountjids", "jid-multi", "The Jabber ID(s)", required=True, rest="jid", positional=True)
PASSWORD = Param("password", "text-private", "The password for this account", required=True)
BY_PATH = {"jid-malformed": 404, "item-not-found": 404}  # a JID in the path that is not an account: 404
STRINGS = {"type": "array", "items": {"type": "string"}}
USERS = {"type": "object", "required": ["users"], "properties": {"users": STRINGS}}
USER_INFO = {
    "type": "object",
    "required": ["jid", "resources"],
    "properties": {"jid": {"type": "string"}, "resources": {**STRINGS, "type": ["array", "null"]}},
}


@contextlib.contextmanager
def refusals(user: jids.Jid) -> Iterator[None]:
    """The store's refusals of an account change as admin errors."""
    try:
        yield
    except UserExists:
        raise AdminError(f"{user.bare_str} already exists", "conflict") from None
    except UserNotFound:
        raise AdminError(f"no such user: {user.bare_str}", "item-not-found") from None
    except ValueError as exc:
        raise AdminError(str(exc), "not-acceptable") from None


async def add_user(call: Call, args: dict[str, Any]) -> Result:
    user = account(call, args["accountjid"])
    verify = args.get("password-verify")
    if verify is not None and verify != args["password"]:
        raise AdminError("the passwords do not match", "not-acceptable")
    with refusals(user):
        await call.deps.users.create(user.local, user.domain, args["password"])
    await call.deps.fire("user.created", user.domain, owner=user.bare_str)
    return Result(f"User {user.bare_str} created", values={"jid": user.bare_str})


async def delete_user(call: Call, args: dict[str, Any]) -> Result:
    users = [account(call, text) for text in args["accountjids"]]
    deleted: list[str] = []
    missing: list[str] = []
    for user in users:
        owner = user.bare_str
        if not await call.deps.users.delete(user.local, user.domain):
            missing.append(owner)
            continue
        deleted.append(owner)
        await call.deps.fire("user.deleted", user.domain, owner=owner)
        for session in call.deps.sessions.resources(owner) if call.deps.sessions else ():
            session.writer.close_with_error("not-authorized", "the account was deleted by an administrator")
    if not deleted:
        raise AdminError(f"no such user: {', '.join(missing)}", "item-not-found")
    note = f"Deleted: {', '.join(deleted)}" + (f"; not found: {', '.join(missing)}" if missing else "")
    return Result(note, values={"deleted": deleted, "notfound": missing})


async def change_password(call: Call, args: dict[str, Any]) -> Result:
    user = account(call, args["accountjid"])
    with refusals(user):
        await call.deps.users.set_password(user.local, user.domain, args["password"])
    return Result(f"Password of {user.bare_str} changed", values={"jid": user.bare_str})


async def registered_num(call: Call, args: dict[str, Any]) -> Result:
    count = await call.deps.users.count(target_vhost(call, args))
    return Result(values={"registeredusersnum": count})


async def registered_list(call: Call, args: dict[str, Any]) -> Result:
    users = await call.deps.users.list(target_vhost(call, args))
    return Result(values={"registereduserjids": limited(users, args.get("max_items"))})


async def user_info(call: Call, args: dict[str, Any]) -> Result:
    user = account(call, args["accountjid"])
    if not await call.deps.users.exists(user.local, user.domain):
        raise AdminError(f"no such user: {user.bare_str}", "item-not-found")
    sessions = call.deps.sessions
    online = sorted(s.full for s in sessions.resources(user.bare_str)) if sessions is not None else None
    return Result(values={"jid": user.bare_str, "resources": online})


async def user_exists(call: Call, args: dict[str, Any]) -> Result:
    user = account(call, args["accountjid"])
    return Result(values={"jid": user.bare_str, "exists": await call.deps.users.exists(user.local, user.domain)})


def operations() -> list[Operation]:
    verify = Param("password-verify", "text-private", "Retype password")
    return [
        Operation(
            "add-user", "Add a User", "Create an account", add_user, (ACCOUNT, PASSWORD, verify),
            node=ADMIN_NODE + "add-user", returns=("jid",),
            rest=Rest("POST", "/api/v1/users", "addUser", "users", 201, errors={"item-not-found": 400},
                      json={"jid": "BareJid"}),
        ),
        Operation(
            "delete-user", "Delete a User", "Delete accounts and all their data", delete_user, (ACCOUNTS,),
            node=ADMIN_NODE + "delete-user", returns=("deleted", "notfound"),
            rest=Rest("DELETE", "/api/v1/users/{jid}", "deleteUser", "users", errors=BY_PATH),
        ),
        Operation(
            "change-user-password", "Change User Password", "Set an account's password", change_password,
            (ACCOUNT, PASSWORD), node=ADMIN_NODE + "change-user-password", returns=("jid",),
            rest=Rest("PUT", "/api/v1/users/{jid}/password", "setPassword", "users", errors=BY_PATH),
        ),
        Operation(
            "get-registered-users-num", "Get Number of Registered Users", "Count accounts", registered_num,
            (VHOST,), node=ADMIN_NODE + "get-registered-users-num", scope="read", returns=("registeredusersnum",),
        ),
        Operation(
            "get-registered-users-list", "Get List of Registered Users", "List accounts", registered_list,
            (MAX_ITEMS, VHOST), node=ADMIN_NODE + "get-registered-users-list", scope="read",
            returns=("registereduserjids",),
            rest=Rest("GET", "/api/v1/users", "listUsers", "users", query=("vhost",), response=USERS,
                      answer=lambda result: {"users": result.values["registereduserjids"]}),
        ),
        Operation(
            "user-info", "User Information", "Whether an account exists and its online resources", user_info,
            (ACCOUNT,), scope="read", returns=("jid", "resources"),
            rest=Rest("GET", "/api/v1/users/{jid}", "userInfo", "users", errors=BY_PATH, response=USER_INFO,
                      answer=lambda result: result.values),
        ),
        Operation("user-exists", "User Exists", "Whether an account exists", user_exists, (ACCOUNT,), scope="read",
                  returns=("jid", "exists")),
    ]  # fmt: skip
