"""Accounts for the cases: the target's given accounts, topped up by in-band registration (XEP-0077)."""

from __future__ import annotations

import secrets

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.client import WireClient, next_id, stanza_error
from tigase_py.compat_tests.target import Account, Target

WANTED = 3


async def register_account(target: Target, username: str, password: str) -> Account:
    """Create ``username`` with XEP-0077 on a fresh (secured) stream; AssertionError if refused."""
    client = WireClient(target, "register")
    try:
        await client.secure()
        fields = f"<username>{username}</username><password>{password}</password>"
        query = f"<query xmlns='{ns.REGISTER}'>{fields}</query>"
        reply = await client.iq(f"<iq type='set' id='{next_id('reg')}'>{query}</iq>")
        if reply.get("type") != "result":
            raise AssertionError(f"in-band registration of {username} refused: {stanza_error(reply)}")
    finally:
        await client.close()
    return Account(f"{username}@{target.domain}", password)


async def ensure_accounts(target: Target, wanted: int = WANTED) -> list[Account]:
    """The target's accounts, plus registered ones up to ``wanted`` when the target allows registration."""
    accounts = list(target.accounts)
    while target.register and len(accounts) < wanted:
        name = f"compat-{secrets.token_hex(4)}"
        accounts.append(await register_account(target, name, secrets.token_urlsafe(12)))
    return accounts
