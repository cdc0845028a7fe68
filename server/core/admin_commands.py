"""The builtin administrative commands: XEP-0133 service administration plus tigase-py extras.

Registered once per :class:`~tigase_py.server.core.server.Server` by :func:`register_all` and offered
through REST, XEP-0050 ad-hoc commands and scripts alike. Commands that count or list something work
on one vhost: the ``vhost`` parameter when given, else the vhost the request was addressed to, else
(REST without ``vhost``) every vhost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tigase_py.server import jid as jids
from tigase_py.server.core.commands import Command, CommandContext, CommandError, CommandRegistry, CommandResult, Param
from tigase_py.server.storage.errors import UserExists, UserNotFound
from tigase_py.server.xml.element import Element

ADMIN = "http://jabber.org/protocol/admin#"
STATISTICS_NODE = "stats"
LIST_SIZES = ("25", "50", "75", "100", "150", "200", "all")
MESSAGE_TYPES = ("normal", "chat", "headline")

VHOST = Param("vhost", "text-single", "Virtual host (default: the one addressed)")
MAX_ITEMS = Param("max_items", "list-single", "Maximum number of items to show", choices=LIST_SIZES, default="all")


# -- helpers -------------------------------------------------------------
def target_vhost(ctx: CommandContext, args: dict[str, Any]) -> str | None:
    vhost = args.get("vhost") or ctx.vhost
    if vhost is not None and vhost not in ctx.server.vhosts:
        raise CommandError(f"{vhost} is not served here", "item-not-found")
    return vhost


def account(ctx: CommandContext, text: str, allow_resource: bool = False) -> jids.Jid:
    """Parse an account JID and check that its domain is served here."""
    try:
        parsed = jids.parse(text.strip())
    except jids.JidError:
        raise CommandError(f"invalid JID {text!r}", "jid-malformed") from None
    if not parsed.local or (parsed.resource and not allow_resource):
        raise CommandError(f"{text!r} is not an account JID", "jid-malformed")
    if parsed.domain not in ctx.server.vhosts:
        raise CommandError(f"{parsed.domain} is not served here", "item-not-found")
    return parsed


def limited(items: list[str], max_items: str | None) -> list[str]:
    if max_items and max_items != "all":
        return items[: int(max_items)]
    return items


def online_users(ctx: CommandContext, vhost: str | None) -> list[str]:
    sessions = ctx.server.sessions
    found = sessions.in_domain(vhost) if vhost is not None else sessions.all()
    return sorted({s.bare for s in found})


def format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


# -- XEP-0133 ------------------------------------------------------------
async def add_user(ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
    user = account(ctx, args["accountjid"])
    verify = args.get("password-verify")
    if verify is not None and verify != args["password"]:
        raise CommandError("the passwords do not match", "not-acceptable")
    try:
        await ctx.server.storage.users.create(user.local, user.domain, args["password"])
    except UserExists:
        raise CommandError(f"{user.bare_str} already exists", "conflict") from None
    except ValueError as exc:
        raise CommandError(str(exc), "not-acceptable") from None
    await ctx.server.bus.fire("user.created", user.domain, owner=user.bare_str)
    return CommandResult(f"User {user.bare_str} created")


async def delete_user(ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
    users = [account(ctx, text) for text in args["accountjids"]]
    deleted: list[str] = []
    missing: list[str] = []
    for user in users:
        owner = user.bare_str
        if not await ctx.server.storage.users.delete(user.local, user.domain):
            missing.append(owner)
            continue
        deleted.append(owner)
        await ctx.server.bus.fire("user.deleted", user.domain, owner=owner)
        for session in ctx.server.sessions.resources(owner):
            session.writer.close_with_error("not-authorized", "the account was removed")
    note = f"Deleted: {', '.join(deleted) or 'nobody'}"
    if missing:
        note += f"; not found: {', '.join(missing)}"
    return CommandResult(note, values={"deleted": deleted, "notfound": missing})


async def change_password(ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
    user = account(ctx, args["accountjid"])
    try:
        await ctx.server.storage.users.set_password(user.local, user.domain, args["password"])
    except UserNotFound:
        raise CommandError(f"{user.bare_str} does not exist", "item-not-found") from None
    except ValueError as exc:
        raise CommandError(str(exc), "not-acceptable") from None
    return CommandResult(f"Password of {user.bare_str} changed")


async def end_session(ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
    ended: list[str] = []
    for text in args["accountjids"]:
        user = account(ctx, text, allow_resource=True)
        sessions = ctx.server.sessions
        found = [sessions.get(user)] if user.resource else sessions.resources(user.bare_str)
        for session in found:
            if session is not None:
                session.writer.close_with_error("policy-violation", "session ended by an administrator")
                ended.append(session.full)
    return CommandResult(f"Ended {len(ended)} session(s)", values={"ended": ended})


async def registered_num(ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
    vhost = target_vhost(ctx, args)
    count = await ctx.server.storage.users.count(vhost)
    return CommandResult(values={"registeredusersnum": count})


async def online_num(ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
    vhost = target_vhost(ctx, args)
    return CommandResult(values={"onlineusersnum": len(online_users(ctx, vhost))})


async def registered_list(ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
    vhost = target_vhost(ctx, args)
    users = await ctx.server.storage.users.list(vhost)
    return CommandResult(values={"registereduserjids": limited(users, args.get("max_items"))})


async def online_list(ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
    vhost = target_vhost(ctx, args)
    return CommandResult(values={"onlineuserjids": limited(online_users(ctx, vhost), args.get("max_items"))})


async def announce(ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
    vhost = target_vhost(ctx, args)
    body = args["announcement"]
    text = "\n".join(body) if isinstance(body, list) else str(body)
    sessions = ctx.server.sessions.in_domain(vhost) if vhost is not None else ctx.server.sessions.all()
    for session in sessions:
        message = Element("message", {"from": session.vhost, "to": session.full, "type": "headline"})
        if args.get("subject"):
            message.add("subject", text=args["subject"])
        message.add("body", text=text)
        session.send(message)
    return CommandResult(f"Announcement sent to {len(sessions)} session(s)")


# -- tigase-py extras ----------------------------------------------------
async def statistics(ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
    needle = (args.get("filter") or "").lower()
    rows = [
        {"name": name, "value": format_number(value)}
        for name, value in sorted(ctx.server.metrics.snapshot().items())
        if needle in name.lower()
    ]
    return CommandResult(f"{len(rows)} metric(s)", rows=rows)


def _domain(ctx: CommandContext, text: str) -> str:
    try:
        parsed = jids.parse(text.strip())
    except jids.JidError:
        raise CommandError(f"invalid domain {text!r}", "jid-malformed") from None
    if not parsed.is_domain:
        raise CommandError(f"{text!r} is not a domain", "jid-malformed")
    return parsed.domain


async def add_vhost(ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
    domain = _domain(ctx, args["domain"])
    stored = await ctx.server.storage.vhosts.add(domain)
    added = await ctx.server.add_vhost(domain)
    if not (stored or added):
        raise CommandError(f"{domain} is already served", "conflict")
    return CommandResult(f"Virtual host {domain} added")


async def remove_vhost(ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
    domain = _domain(ctx, args["domain"])
    if domain in ctx.server.config.server.vhosts:
        raise CommandError(f"{domain} is configured in the config file; remove it there", "not-allowed")
    stored = await ctx.server.storage.vhosts.remove(domain)
    removed = await ctx.server.remove_vhost(domain)
    if not (stored or removed):
        raise CommandError(f"{domain} is not served here", "item-not-found")
    return CommandResult(f"Virtual host {domain} removed")


async def list_sessions(ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
    vhost = target_vhost(ctx, args)
    sessions = ctx.server.sessions.in_domain(vhost) if vhost is not None else ctx.server.sessions.all()
    rows = [
        {
            "jid": s.full,
            "peer": s.peer,
            "available": s.available,
            "priority": s.priority,
            "secure": s.secure,
        }
        for s in sorted(sessions, key=lambda s: s.full)
    ]
    return CommandResult(f"{len(rows)} session(s)", rows=rows)


async def send_message(ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
    try:
        to = jids.parse(args["to"].strip())
    except jids.JidError:
        raise CommandError(f"invalid JID {args['to']!r}", "jid-malformed") from None
    sender = args.get("from") or ctx.vhost or to.domain
    if jids.try_parse(sender) is None or jids.parse(sender).domain not in ctx.server.vhosts:
        raise CommandError(f"{sender} is not an address of this server", "not-allowed")
    body = args["body"]
    message = Element("message", {"from": sender, "to": str(to), "type": args.get("type", "normal")})
    if args.get("subject"):
        message.add("subject", text=args["subject"])
    message.add("body", text="\n".join(body) if isinstance(body, list) else str(body))
    await ctx.server.router.deliver(message)
    return CommandResult(f"Message sent to {to}")


def _xep(slug: str, title: str, description: str, run: Any, *params: Param) -> Command:
    return Command(slug, title, description, run, params=params, node=ADMIN + slug)


def builtin_commands() -> list[Command]:
    accountjid = Param("accountjid", "jid-single", "The Jabber ID for the account", required=True)
    accountjids = Param("accountjids", "jid-multi", "The Jabber ID(s)", required=True)
    password = Param("password", "text-private", "The password for this account", required=True)
    return [
        _xep(
            "add-user",
            "Add a User",
            "Create an account",
            add_user,
            accountjid,
            password,
            Param("password-verify", "text-private", "Retype password"),
        ),
        _xep("delete-user", "Delete a User", "Delete accounts and all their data", delete_user, accountjids),
        _xep(
            "change-user-password",
            "Change User Password",
            "Set an account's password",
            change_password,
            accountjid,
            password,
        ),
        _xep(
            "end-user-session",
            "End User Session",
            "Disconnect sessions (a bare JID ends all of them)",
            end_session,
            accountjids,
        ),
        _xep("get-registered-users-num", "Get Number of Registered Users", "Count accounts", registered_num, VHOST),
        _xep("get-online-users-num", "Get Number of Online Users", "Count online accounts", online_num, VHOST),
        _xep(
            "get-registered-users-list",
            "Get List of Registered Users",
            "List accounts",
            registered_list,
            MAX_ITEMS,
            VHOST,
        ),
        _xep(
            "get-online-users-list", "Get List of Online Users", "List online accounts", online_list, MAX_ITEMS, VHOST
        ),
        _xep(
            "announce",
            "Send Announcement to Online Users",
            "Send a headline message to every online session",
            announce,
            Param("subject", "text-single", "Subject"),
            Param("announcement", "text-multi", "Announcement", required=True),
            VHOST,
        ),
        Command(
            "get-statistics",
            "Get Statistics",
            "Every server metric, optionally filtered by a substring of its name",
            statistics,
            params=(Param("filter", "text-single", "Only metrics whose name contains"),),
            node=STATISTICS_NODE,
        ),
        Command(
            "add-vhost",
            "Add a Virtual Host",
            "Serve a new domain",
            add_vhost,
            params=(Param("domain", "text-single", "Domain", required=True),),
        ),
        Command(
            "remove-vhost",
            "Remove a Virtual Host",
            "Stop serving a domain added at run time",
            remove_vhost,
            params=(Param("domain", "text-single", "Domain", required=True),),
        ),
        Command("list-sessions", "List Sessions", "Every bound client session", list_sessions, params=(VHOST,)),
        Command(
            "send-message",
            "Send a Message",
            "Send a message from the server (or one of its addresses) to any JID",
            send_message,
            params=(
                Param("to", "jid-single", "Recipient", required=True),
                Param("body", "text-multi", "Body", required=True),
                Param("subject", "text-single", "Subject"),
                Param("type", "list-single", "Message type", choices=MESSAGE_TYPES, default="normal"),
                Param("from", "jid-single", "Sender (default: the server)"),
            ),
        ),
    ]


def register_all(registry: CommandRegistry) -> list[Callable[[], None]]:
    """Register every builtin command; return the undo callables."""
    return [registry.register(command) for command in builtin_commands()]
