"""XEP-0077 In-Band Registration: the form, registering, conflicts, changing the password, cancelling.

Cases that create accounts run only when the target allows it (``register = true``); the others run
wherever the server offers the registration stream feature.
"""

from __future__ import annotations

import contextlib
import secrets
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

import pytest

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, require_stream_feature, spec
from tigase_py.compat_tests.client import SaslFailure, StreamClosed, WireClient, logged_in, next_id, stanza_error
from tigase_py.compat_tests.target import Account, Target

FEATURE = ns.q(ns.REGISTER_FEATURE, "register")
QUERY = ns.q(ns.REGISTER, "query")


@contextlib.asynccontextmanager
async def unauthenticated(target: Target) -> AsyncIterator[WireClient]:
    """A secured stream before authentication that offers in-band registration."""
    client = WireClient(target, "register")
    try:
        await client.secure()
        require_stream_feature(client, FEATURE)
        yield client
    finally:
        await client.close()


async def register(client: WireClient, fields: str) -> ET.Element:
    return await client.iq(f"<iq type='set' id='{next_id('reg')}'><query xmlns='{ns.REGISTER}'>{fields}</query></iq>")


def allowed(target: Target) -> None:
    if not target.register:
        pytest.skip("the target does not allow creating accounts (register = false)")


def fresh(target: Target) -> Account:
    return Account(f"compat-{secrets.token_hex(4)}@{target.domain}", secrets.token_urlsafe(12))


async def registered(target: Target) -> Account:
    """A new account registered in band (the case is skipped unless the target allows creating accounts)."""
    allowed(target)
    account = fresh(target)
    await create(target, account)
    return account


async def create(target: Target, account: Account) -> None:
    async with unauthenticated(target) as client:
        fields = f"<username>{account.local}</username><password>{account.password}</password>"
        reply = await register(client, fields)
        assert reply.get("type") == "result", describe(reply)


@spec("XEP-0077", "3.1", category="Core IM")
async def test_registration_form(target: Target) -> None:
    """A get before authentication returns the fields to fill in (username and password, or a data form)."""
    async with unauthenticated(target) as client:
        reply = await client.iq(f"<iq type='get' id='{next_id('reg')}'><query xmlns='{ns.REGISTER}'/></iq>")
        query = reply.find(QUERY)
        assert reply.get("type") == "result" and query is not None, describe(reply)
        names = {child.tag for child in query}
        plain = {ns.q(ns.REGISTER, "username"), ns.q(ns.REGISTER, "password")} <= names
        form = "{jabber:x:data}x" in names
        assert plain or form, f"neither fields nor a data form: {describe(reply)}"


@spec("XEP-0077", "3.1", category="Core IM")
async def test_register_and_log_in(target: Target) -> None:
    """Registering a new username succeeds, and the new account can then authenticate."""
    account = await registered(target)
    async with logged_in(target, account) as client:
        jid = client.jid or ""
        assert jid.partition("/")[0].lower() == account.jid.lower(), jid
        await register(client, "<remove/>")


@spec("XEP-0077", "3.1", category="Core IM")
async def test_register_taken_username(target: Target, accounts: list[Account]) -> None:
    """Registering a username that already exists gets <conflict/>."""
    async with unauthenticated(target) as client:
        fields = f"<username>{accounts[0].local}</username><password>{secrets.token_urlsafe(12)}</password>"
        reply = await register(client, fields)
        assert reply.get("type") == "error" and stanza_error(reply) == "conflict", describe(reply)


@spec("XEP-0077", "3.1", category="Core IM")
async def test_register_missing_password(target: Target) -> None:
    """A registration without the required password is refused (not-acceptable or bad-request)."""
    async with unauthenticated(target) as client:
        reply = await register(client, f"<username>compat-{secrets.token_hex(4)}</username>")
        assert reply.get("type") == "error", describe(reply)
        assert stanza_error(reply) in ("not-acceptable", "bad-request"), describe(reply)


@spec("XEP-0077", "3.3", category="Core IM")
async def test_change_password(target: Target) -> None:
    """A logged-in user changes the password; the new one then authenticates."""
    account = await registered(target)
    changed = Account(account.jid, secrets.token_urlsafe(12))
    client = WireClient(target, account.local)
    try:
        await client.login(account)
        fields = f"<username>{account.local}</username><password>{changed.password}</password>"
        reply = await register(client, fields)
        assert reply.get("type") == "result", describe(reply)
    finally:
        await client.close()
    async with logged_in(target, changed) as again:
        await register(again, "<remove/>")


@spec("XEP-0077", "3.2", category="Core IM")
async def test_cancel_registration(target: Target) -> None:
    """A user removes the account (<remove/>); it can no longer authenticate."""
    account = await registered(target)
    client = WireClient(target, account.local)
    try:
        await client.login(account)
        reply = await register(client, "<remove/>")
        assert reply.get("type") == "result", describe(reply)
    except StreamClosed:
        pass  # the stream may end together with the account
    finally:
        await client.close()
    gone = WireClient(target, account.local)
    try:
        await gone.secure()
        with pytest.raises(SaslFailure):
            await gone.authenticate(account)
    finally:
        await gone.close()
