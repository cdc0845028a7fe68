"""XEP-0352 Client State Indication: the <inactive/> and <active/> nonzas where the stream feature is offered."""

from __future__ import annotations

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, require_stream_feature, spec
from tigase_py.compat_tests.client import next_id
from tigase_py.compat_tests.suites.im import online, settle
from tigase_py.compat_tests.target import Account, Target

FEATURE = ns.q(ns.CSI, "csi")


@spec("XEP-0352", "4", category="Core Mobile")
async def test_inactive_then_active(target: Target, accounts: list[Account]) -> None:
    """<inactive/> then <active/> are accepted silently: no error, and the session keeps working."""
    async with online(target, accounts[0], available=True) as alice:
        require_stream_feature(alice, FEATURE)
        await alice.send(f"<inactive xmlns='{ns.CSI}'/>")
        await settle(0.2)
        await alice.send(f"<active xmlns='{ns.CSI}'/>")
        reply = await alice.iq(
            f"<iq type='get' id='{next_id('ping')}' to='{target.domain}'><ping xmlns='{ns.PING}'/></iq>"
        )
        assert reply.get("type") in ("result", "error"), describe(reply)
        assert not alice.closed and alice.stream_error() is None, f"stream error {alice.stream_error()}"


@spec("XEP-0352", "4", category="Core Mobile")
async def test_active_alone(target: Target, accounts: list[Account]) -> None:
    """<active/> on its own (the initial state) is accepted: the stream stays open."""
    async with online(target, accounts[0]) as alice:
        require_stream_feature(alice, FEATURE)
        await alice.send(f"<active xmlns='{ns.CSI}'/>")
        await settle(0.5)
        assert not alice.closed and alice.stream_error() is None, f"stream error {alice.stream_error()}"
