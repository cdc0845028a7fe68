"""XEP-0077: In-Band Registration — create accounts before login, change password or cancel after.

Creating accounts is off unless ``[vhosts."<domain>"] registration = true``. The module offers it
through the pre-auth contract (``Module(pre_auth=...)``, see ``core/preauth.py``): the c2s stream
hands a pre-authentication ``<iq><query xmlns='jabber:iq:register'/></iq>`` to
:func:`handle_preauth` and advertises :func:`preauth_feature`; both only act when
:func:`is_preauth_allowed` says so. After login, an account may change its password or remove
itself whatever the vhost setting.
"""

from __future__ import annotations

import logging

from tigase_py.server import jid as jids
from tigase_py.server.core.login_guard import retry_text
from tigase_py.server.core.module import IqContext, Module, ModuleContext, Spec
from tigase_py.server.core.preauth import PreAuth, PreAuthStream
from tigase_py.server.errors import StanzaError, StreamError
from tigase_py.server.storage.errors import UserExists, UserNotFound
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element

log = logging.getLogger("tigase_py.modules.register")

INSTRUCTIONS = "Choose a username and password to register with this server."


def registration_form(username: str | None = None) -> Element:
    """The ``<query/>`` answering a get: instructions and empty fields, or the registered account."""
    query = Element("query", ns=ns.REGISTER)
    if username is not None:
        query.add("registered")
        query.add("username", text=username)
        query.add("password")
        return query
    query.add("instructions", text=INSTRUCTIONS)
    query.add("username")
    query.add("password")
    return query


def read_credentials(query: Element) -> tuple[str, str]:
    """The normalised username and the password of a set; ``not-acceptable``/``jid-malformed``."""
    username = query.find_text("username", ns.REGISTER)
    password = query.find_text("password", ns.REGISTER)
    if not username or not password:
        raise StanzaError("not-acceptable", "username and password are required")
    try:
        return jids.prep_username(username.strip()), password
    except jids.JidError:
        raise StanzaError("jid-malformed", "invalid username") from None


def is_preauth_allowed(ctx: ModuleContext, stream: PreAuthStream) -> bool:
    """Registration is enabled for the vhost, and the stream may carry credentials."""
    return bool(ctx.hosts.options(ctx.vhost).registration) and stream.may_carry_credentials


def preauth_feature(ctx: ModuleContext, stream: PreAuthStream) -> Element | None:
    if not is_preauth_allowed(ctx, stream):
        return None
    return Element("register", ns=ns.REGISTER_FEATURE)


async def handle_preauth(ctx: ModuleContext, stream: PreAuthStream, stanza: Element) -> Element:
    """Answer a registration IQ received before authentication; the reply goes to the stream.

    Raises :class:`StreamError` when credentials would cross an unencrypted stream that requires TLS,
    :class:`StanzaError` to refuse (the stream sends it as the error reply).
    """
    if not stream.may_carry_credentials:
        raise StreamError("policy-violation", "STARTTLS is required before registration")
    if not is_preauth_allowed(ctx, stream):
        raise StanzaError("service-unavailable", "in-band registration is disabled")
    query = stanza.find("query", ns.REGISTER)
    assert query is not None
    reply = Element("iq", {"type": "result", "id": stanza.get("id") or ""})
    iq_type = stanza.get("type")
    if iq_type == "get":
        return reply.append(registration_form())
    if iq_type != "set":
        raise StanzaError("bad-request", "expected a get or set")
    if query.find("remove", ns.REGISTER) is not None:
        raise StanzaError("not-allowed", "log in to remove an account")
    throttle_registration(stream)
    username, password = read_credentials(query)
    try:
        await ctx.storage.users.create(username, ctx.vhost, password)
    except UserExists:
        raise StanzaError("conflict", "that username is taken") from None
    except ValueError as exc:
        raise StanzaError("not-acceptable", str(exc)) from None
    owner = f"{username}@{ctx.vhost}"
    log.info("user_registered jid=%s peer=%s", owner, stream.peer)
    await ctx.fire("user.created", owner=owner)
    return reply


def throttle_registration(stream: PreAuthStream) -> None:
    """``[limits] registrations_per_ip`` account creation attempts per IP per hour, then
    ``<resource-constraint/>`` (type wait) saying when to retry, as XEP-0077 lets a server refuse."""
    guard, ip = stream.login_guard, stream.ip
    wait = guard.registration_retry_after(ip)
    if wait > 0:
        raise StanzaError("resource-constraint", f"too many registrations from your address; {retry_text(wait)}")
    guard.registration_attempted(ip)


module = Module(
    name="register",
    specs=[Spec("XEP-0077", "2.4")],
    features=[ns.REGISTER],
    account_features=[ns.REGISTER],
    pre_auth=PreAuth(ns.REGISTER, "query", handle_preauth, preauth_feature),
)


@module.iq("get", ns.REGISTER, "query", to=("server", "self"))
async def get_registration(ctx: IqContext) -> Element:
    return ctx.result(registration_form(ctx.sender.local))


@module.iq("set", ns.REGISTER, "query", to=("server", "self"))
async def set_registration(ctx: IqContext) -> Element | None:
    query = ctx.payload
    if query.find("remove", ns.REGISTER) is not None:
        await remove_account(ctx)
        return None
    username, password = read_credentials(query)
    if username != ctx.sender.local:
        raise StanzaError("not-allowed", "an account may only change its own password")
    try:
        await ctx.storage.users.set_password(username, ctx.sender.domain, password)
    except UserNotFound:
        raise StanzaError("item-not-found") from None
    except ValueError as exc:
        raise StanzaError("not-acceptable", str(exc)) from None
    ctx.module.log.info("password_changed jid=%s", ctx.user)
    return ctx.result()


async def remove_account(ctx: IqContext) -> None:
    """Delete the account, confirm to the requesting resource, then close all its sessions."""
    owner = ctx.user
    if not await ctx.storage.users.delete(ctx.sender.local, ctx.sender.domain):
        raise StanzaError("item-not-found")
    ctx.module.log.info("user_removed jid=%s", owner)
    if ctx.origin is not None:
        ctx.origin.send(ctx.result())
    await ctx.module.fire("user.deleted", owner=owner)
    for session in ctx.module.sessions_of(owner):
        session.writer.close_with_error("not-authorized", "the account was removed")
