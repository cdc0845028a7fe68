"""XEP-0054 vcard-temp: publish one's own vCard, read it back, read another user's."""

from __future__ import annotations

from tigase_py.compat_tests.case import describe, need_accounts, require_feature, spec
from tigase_py.compat_tests.client import next_id
from tigase_py.compat_tests.suites.im import online
from tigase_py.compat_tests.target import Account, Target

VCARD = "vcard-temp"


def publish(name: str) -> str:
    return f"<iq type='set' id='{next_id('vc')}'><vCard xmlns='{VCARD}'><FN>{name}</FN></vCard></iq>"


@spec("XEP-0054", "3.2", category="Core IM")
async def test_vcard_set_and_get(target: Target, accounts: list[Account]) -> None:
    """A user publishes a vCard with a set (result) and gets the same FN back."""
    async with online(target, accounts[0]) as alice:
        await require_feature(alice, VCARD)
        name = f"Compat {next_id('fn')}"
        stored = await alice.iq(publish(name))
        assert stored.get("type") == "result", describe(stored)
        reply = await alice.iq(f"<iq type='get' id='{next_id('vc')}'><vCard xmlns='{VCARD}'/></iq>")
        assert reply.get("type") == "result", describe(reply)
        assert reply.findtext(f"{{{VCARD}}}vCard/{{{VCARD}}}FN") == name, describe(reply)


@spec("XEP-0054", "3.3", category="Core IM")
async def test_vcard_of_other_user(target: Target, accounts: list[Account]) -> None:
    """Another user's vCard: the result shows what that user published (FN round trip through the server)."""
    alice_account, bob_account = need_accounts(accounts, 2)
    name = f"Bob {next_id('fn')}"
    async with online(target, bob_account) as bob:
        await require_feature(bob, VCARD)
        stored = await bob.iq(publish(name))
        assert stored.get("type") == "result", describe(stored)
    async with online(target, alice_account) as alice:
        query = f"<vCard xmlns='{VCARD}'/>"
        reply = await alice.iq(f"<iq type='get' id='{next_id('vc')}' to='{bob_account.jid}'>{query}</iq>")
        assert reply.get("type") == "result", describe(reply)
        assert reply.findtext(f"{{{VCARD}}}vCard/{{{VCARD}}}FN") == name, describe(reply)


@spec("XEP-0054", "3.3", category="Core IM")
async def test_vcard_missing(target: Target, accounts: list[Account]) -> None:
    """The vCard of a user who has none is an empty result or an error (item-not-found is suggested)."""
    async with online(target, accounts[0]) as alice:
        await require_feature(alice, VCARD)
        to = f"nobody-{next_id('u')}@{target.domain}"
        reply = await alice.iq(f"<iq type='get' id='{next_id('vc')}' to='{to}'><vCard xmlns='{VCARD}'/></iq>")
        if reply.get("type") == "result":
            card = reply.find(f"{{{VCARD}}}vCard")
            assert card is None or len(card) == 0, describe(reply)
        else:
            assert reply.get("type") == "error", describe(reply)
