"""XEP-0077: In-Band Registration — create accounts before login, change password or cancel after.

Creating accounts is off unless ``[vhosts."<domain>"] registration = true``. The c2s stream hands a
pre-authentication ``<iq><query xmlns='jabber:iq:register'/></iq>`` to :func:`handle_preauth` and
advertises :func:`preauth_feature`; both only act when :func:`is_preauth_allowed` says so. After
login, an account may change its password or remove itself whatever the vhost setting.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from tigase_py.server import jid as jids
from tigase_py.server.core.login_guard import peer_ip, retry_text
from tigase_py.server.core.module import IqContext, Module, Spec
from tigase_py.server.errors import StanzaError, StreamError, error_reply
from tigase_py.server.storage.errors import UserExists, UserNotFound
from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element

if TYPE_CHECKING:
    from tigase_py.server.stream.c2s import C2SConnection

log = logging.getLogger("tigase_py.modules.register")

INSTRUCTIONS = "Choose a username and password to register with this server."

module = Module(
    name="register",
    specs=[Spec("XEP-0077", "2.4")],
    features=[ns.REGISTER],
    account_features=[ns.REGISTER],
)


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


def may_carry_credentials(connection: C2SConnection) -> bool:
    """The stream is encrypted, or this listener does not require TLS."""
    return connection.secure or not connection.listener.require_tls or connection.tls is None


def is_preauth_allowed(connection: C2SConnection) -> bool:
    """Registration is enabled and loaded for the vhost, and the stream may carry credentials."""
    server = connection.server
    domain = connection.domain
    if not domain or not server.config.options_for(domain).registration:
        return False
    return server.registry.is_loaded(domain, "register") and may_carry_credentials(connection)


def preauth_feature(connection: C2SConnection) -> Element | None:
    if not is_preauth_allowed(connection):
        return None
    return Element("register", ns=ns.REGISTER_FEATURE)


async def handle_preauth(connection: C2SConnection, stanza: Element) -> Element:
    """Answer a registration IQ received before authentication; the reply goes to the stream.

    Raises :class:`StreamError` when credentials would cross an unencrypted stream that requires TLS.
    """
    if not may_carry_credentials(connection):
        raise StreamError("policy-violation", "STARTTLS is required before registration")
    try:
        if not is_preauth_allowed(connection):
            raise StanzaError("service-unavailable", "in-band registration is disabled")
        return await _preauth(connection, stanza)
    except StanzaError as error:
        return error_reply(stanza, error)


def throttle_registration(connection: C2SConnection) -> None:
    """``[limits] registrations_per_ip`` account creation attempts per IP per hour, then
    ``<resource-constraint/>`` (type wait) saying when to retry, as XEP-0077 lets a server refuse."""
    guard = connection.server.login_guard
    ip = peer_ip(connection.peer)
    wait = guard.registration_retry_after(ip)
    if wait > 0:
        raise StanzaError("resource-constraint", f"too many registrations from your address; {retry_text(wait)}")
    guard.registration_attempted(ip)


async def _preauth(connection: C2SConnection, stanza: Element) -> Element:
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
    throttle_registration(connection)
    username, password = read_credentials(query)
    domain = connection.domain
    storage = connection.server.storage
    try:
        await storage.users.create(username, domain, password)
    except UserExists:
        raise StanzaError("conflict", "that username is taken") from None
    except ValueError as exc:
        raise StanzaError("not-acceptable", str(exc)) from None
    owner = f"{username}@{domain}"
    log.info("user_registered jid=%s peer=%s", owner, connection.peer)
    await connection.server.bus.fire("user.created", domain, owner=owner)
    return reply


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
