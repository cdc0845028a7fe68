"""XEP-0313 Message Archive Management (urn:xmpp:mam:2) on the user's own archive.

Section numbers follow XEP-0313's 0.6 layout, the first with urn:xmpp:mam:2 (4.1.x filtering and
paging, 4.2 query results).
"""

from __future__ import annotations

import contextlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, disco_features, need_accounts, not_supported, spec
from tigase_py.compat_tests.client import WireClient, logged_in, next_id, stanza_error
from tigase_py.compat_tests.suites.advanced.helpers import DATA, FORWARD, MAM, MESSAGE, RSM, bare, body_is, unique
from tigase_py.compat_tests.target import Account, Target


async def require_mam(client: WireClient) -> None:
    """User archives are advertised on the account's bare JID (some servers also on the domain)."""
    features = await disco_features(client, bare(client.jid)) | await disco_features(client)
    if MAM not in features:
        raise not_supported(f"neither {bare(client.jid)} nor {client.target.domain} advertises {MAM}")


def form(with_jid: str | None) -> str:
    fields = f"<field var='FORM_TYPE' type='hidden'><value>{MAM}</value></field>"
    if with_jid:
        fields += f"<field var='with'><value>{with_jid}</value></field>"
    return f"<x xmlns='{DATA}' type='submit'>{fields}</x>"


async def query(client: WireClient, with_jid: str | None = None, rsm: str = "") -> tuple[ET.Element, list[ET.Element]]:
    """Run one MAM query; return (the final IQ, the <result/> elements received for it in order)."""
    queryid = next_id("mamq")
    paging = f"<set xmlns='{RSM}'>{rsm}</set>" if rsm else ""
    reply = await client.iq(
        f"<iq type='set' id='{next_id('mam')}'><query xmlns='{MAM}' queryid='{queryid}'>"
        f"{form(with_jid)}{paging}</query></iq>"
    )

    def ours(el: ET.Element) -> bool:
        result = el.find(ns.q(MAM, "result"))
        return el.tag == MESSAGE and result is not None and result.get("queryid") == queryid

    results = []
    while True:  # the results come before the IQ result; the short wait only tolerates reordering
        try:
            message = await client.expect(ours, 0.1)
        except TimeoutError:
            break
        results.append(message.find(ns.q(MAM, "result")))
    return reply, [r for r in results if r is not None]


def body(result: ET.Element) -> str | None:
    return result.findtext(f"{{{FORWARD}}}forwarded/{{{ns.CLIENT}}}message/{{{ns.CLIENT}}}body")


@contextlib.asynccontextmanager
async def conversation(
    target: Target, accounts: list[Account], count: int
) -> AsyncIterator[tuple[WireClient, WireClient, list[str]]]:
    """alice sends ``count`` chat messages to bob's full JID (each delivered); yields (alice, bob, bodies)."""
    alice_account, bob_account = need_accounts(accounts, 2)
    async with logged_in(target, alice_account) as alice, logged_in(target, bob_account) as bob:
        await require_mam(alice)
        texts = [unique(f"archived {n}") for n in range(count)]
        for text in texts:
            await alice.send(f"<message to='{bob.jid}' type='chat' id='{next_id()}'><body>{text}</body></message>")
            await bob.expect(body_is(text))
        yield alice, bob, texts


@spec("XEP-0313", "4.1.5", category="Advanced IM")
async def test_form_fields(target: Target, accounts: list[Account]) -> None:
    """Asking for the query form returns a data form with FORM_TYPE urn:xmpp:mam:2 and the 'with' field."""
    async with logged_in(target, accounts[0]) as alice:
        await require_mam(alice)
        reply = await alice.iq(f"<iq type='get' id='{next_id()}'><query xmlns='{MAM}'/></iq>")
        assert reply.get("type") == "result", describe(reply)
        fields = reply.findall(f"{{{MAM}}}query/{{{DATA}}}x/{{{DATA}}}field")
        values = {f.get("var"): f.findtext(f"{{{DATA}}}value") for f in fields}
        assert values.get("FORM_TYPE") == MAM, describe(reply)
        assert "with" in values, describe(reply)


@spec("XEP-0313", "4.2", category="Advanced IM")
async def test_query_own_archive(target: Target, accounts: list[Account]) -> None:
    """A query of one's own archive ends in an IQ result carrying <fin/>; each <result/> has the queryid and an id."""
    async with conversation(target, accounts, 1) as (alice, _bob, _texts):
        reply, results = await query(alice, rsm="<max>5</max><before/>")
        assert reply.get("type") == "result", describe(reply)
        assert reply.find(ns.q(MAM, "fin")) is not None, describe(reply)
        assert results, "no <result/> carrying our queryid came back"
        assert all(r.get("id") for r in results), "a <result/> without the archive id"


@spec("XEP-0313", "4.1.1", category="Advanced IM")
async def test_sent_messages_archived(target: Target, accounts: list[Account]) -> None:
    """Messages alice sent to bob appear, forwarded, in both archives when filtered by the other's JID."""
    async with conversation(target, accounts, 2) as (alice, bob, texts):
        for owner, other in ((alice, bob), (bob, alice)):
            reply, results = await query(owner, bare(other.jid), "<max>10</max><before/>")
            assert reply.get("type") == "result", describe(reply)
            bodies = [body(r) for r in results]
            assert bodies[-2:] == texts, f"{owner.who}'s archive ends with {bodies[-2:]}, expected {texts}"


@spec("XEP-0313", "4.1.1", category="Advanced IM")
async def test_with_filter(target: Target, accounts: list[Account]) -> None:
    """Filtering by 'with' returns only messages exchanged with that JID."""
    async with conversation(target, accounts, 1) as (alice, bob, _texts):
        reply, results = await query(alice, bare(bob.jid), "<max>20</max><before/>")
        assert reply.get("type") == "result", describe(reply)
        for result in results:
            inner = result.find(f"{{{FORWARD}}}forwarded/{{{ns.CLIENT}}}message")
            assert inner is not None, describe(result)
            parties = {bare(inner.get("from")), bare(inner.get("to"))}
            assert bare(bob.jid) in parties, describe(result)


@spec("XEP-0313", "4.1.4", category="Advanced IM")
async def test_rsm_paging(target: Target, accounts: list[Account]) -> None:
    """Paging with max=1 returns one message per page; <fin/> names the page; 'before' walks backwards."""
    async with conversation(target, accounts, 2) as (alice, bob, texts):
        reply, results = await query(alice, bare(bob.jid), "<max>1</max><before/>")
        assert reply.get("type") == "result", describe(reply)
        assert [body(r) for r in results] == [texts[1]], [body(r) for r in results]
        first = reply.findtext(f"{{{MAM}}}fin/{{{RSM}}}set/{{{RSM}}}first")
        assert first == results[0].get("id"), describe(reply)
        reply, results = await query(alice, bare(bob.jid), f"<max>1</max><before>{first}</before>")
        assert reply.get("type") == "result", describe(reply)
        assert [body(r) for r in results] == [texts[0]], [body(r) for r in results]


@spec("XEP-0313", "4.1.4", category="Advanced IM")
async def test_unknown_after_id(target: Target, accounts: list[Account]) -> None:
    """Paging after an archive id that does not exist is answered with <item-not-found/>."""
    async with logged_in(target, accounts[0]) as alice:
        await require_mam(alice)
        reply, _results = await query(alice, rsm=f"<max>5</max><after>{unique('no-such-id')}</after>")
        assert reply.get("type") == "error" and stanza_error(reply) == "item-not-found", describe(reply)
