"""XEP-0136 Message Archiving (superseded by XEP-0313, still deployed): preferences and collections."""

from __future__ import annotations

from tigase_py.compat_tests.case import describe, require_feature, spec
from tigase_py.compat_tests.client import logged_in
from tigase_py.compat_tests.suites.advanced.helpers import RSM, set_iq
from tigase_py.compat_tests.target import Account, Target

ARCHIVE = "urn:xmpp:archive"


@spec("XEP-0136", "2.2", category="Advanced IM")
async def test_retrieve_preferences(target: Target, accounts: list[Account]) -> None:
    """A server advertising archiving preferences returns the user's <pref/> on request."""
    async with logged_in(target, accounts[0]) as alice:
        await require_feature(alice, f"{ARCHIVE}:pref")
        reply = await set_iq(alice, "", f"<pref xmlns='{ARCHIVE}'/>", "get")
        assert reply.get("type") == "result", describe(reply)
        assert reply.find(f"{{{ARCHIVE}}}pref") is not None, describe(reply)


@spec("XEP-0136", "5.1", category="Advanced IM")
async def test_list_collections(target: Target, accounts: list[Account]) -> None:
    """A server advertising archive management answers a collection list request with <list/>."""
    async with logged_in(target, accounts[0]) as alice:
        await require_feature(alice, f"{ARCHIVE}:manage")
        query = f"<list xmlns='{ARCHIVE}'><set xmlns='{RSM}'><max>10</max></set></list>"
        reply = await set_iq(alice, "", query, "get")
        assert reply.get("type") == "result", describe(reply)
        assert reply.find(f"{{{ARCHIVE}}}list") is not None, describe(reply)
