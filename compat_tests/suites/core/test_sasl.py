"""RFC 6120 section 6: SASL negotiation, success and the defined failure conditions."""

from __future__ import annotations

import base64

import scramp

from tigase_py.compat_tests import ns
from tigase_py.compat_tests.case import describe, require_mechanism, spec
from tigase_py.compat_tests.client import SaslFailure, WireClient, child_condition, local_name, secured
from tigase_py.compat_tests.target import Account, Target

SCRAM = ("SCRAM-SHA-256", "SCRAM-SHA-1")


def first_mechanism(client: WireClient) -> str:
    offered = client.mechanisms()
    return next((m for m in (*SCRAM, "PLAIN") if m in offered), offered[0] if offered else "PLAIN")


def scram_mechanism(client: WireClient) -> str:
    """The SCRAM mechanism to use (the strongest offered), or NotSupported if none is."""
    mechanism = first_mechanism(client)
    if mechanism not in SCRAM:
        require_mechanism(client, "SCRAM-SHA-1")
    return mechanism


def failure_condition(answer: object) -> str:
    assert getattr(answer, "tag", None) == ns.q(ns.SASL, "failure"), f"expected <failure/>, got {describe(answer)}"  # type: ignore[arg-type]
    return child_condition(answer, ns.SASL) or "(none)"  # type: ignore[arg-type]


async def refused(client: WireClient, account: Account, mechanism: str, what: str) -> None:
    """Authenticating as ``account`` with ``mechanism`` ends in <failure><not-authorized/></failure>."""
    try:
        await client.authenticate(account, mechanism)
    except SaslFailure as failure:
        assert failure.condition == "not-authorized", f"<{failure.condition}/>"
    else:
        raise AssertionError(f"authenticated {what}")


async def sign_in(target: Target, account: Account, mechanism: str) -> None:
    async with secured(target, account.local) as client:
        require_mechanism(client, mechanism)
        success = await client.authenticate(account, mechanism)
        assert success.tag == ns.q(ns.SASL, "success"), describe(success)


@spec("RFC6120", "6.4.1", category="Core Server")
async def test_mechanisms_offered(target: Target) -> None:
    """Before authentication the server offers SASL with at least one mechanism."""
    async with secured(target) as client:
        assert client.mechanisms(), describe(client.features)


@spec("RFC6120", "6.3.8", category="Core Server")
async def test_scram_sha1_success(target: Target, accounts: list[Account]) -> None:
    """SCRAM-SHA-1 succeeds, and the server's signature in <success/> verifies (RFC 5802)."""
    await sign_in(target, accounts[0], "SCRAM-SHA-1")


@spec("RFC6120", "6.3.8", category="Core Server")
async def test_scram_sha256_success(target: Target, accounts: list[Account]) -> None:
    """SCRAM-SHA-256 succeeds where it is offered (RFC 7677)."""
    await sign_in(target, accounts[0], "SCRAM-SHA-256")


@spec("RFC6120", "6.3.8", category="Core Server")
async def test_plain_success(target: Target, accounts: list[Account]) -> None:
    """PLAIN over TLS succeeds where it is offered (RFC 4616)."""
    await sign_in(target, accounts[0], "PLAIN")


@spec("RFC6120", "6.5.10", category="Core Server")
async def test_wrong_password_scram(target: Target, accounts: list[Account]) -> None:
    """A wrong password with SCRAM ends in <failure><not-authorized/></failure>."""
    async with secured(target) as client:
        mechanism = scram_mechanism(client)
        wrong = Account(accounts[0].jid, accounts[0].password + "-wrong")
        await refused(client, wrong, mechanism, "with a wrong password")


@spec("RFC6120", "6.5.10", category="Core Server")
async def test_wrong_password_plain(target: Target, accounts: list[Account]) -> None:
    """A wrong password with PLAIN ends in <failure><not-authorized/></failure>."""
    async with secured(target) as client:
        require_mechanism(client, "PLAIN")
        await refused(client, Account(accounts[0].jid, "not-the-password"), "PLAIN", "with a wrong password")


@spec("RFC6120", "6.5.10", category="Core Server")
async def test_unknown_user(target: Target) -> None:
    """An account that does not exist fails with <not-authorized/>."""
    async with secured(target) as client:
        ghost = Account(f"nobody-compat@{target.domain}", "whatever")
        await refused(client, ghost, first_mechanism(client), "an account that does not exist")


@spec("RFC6120", "6.5.6", category="Core Server")
async def test_invalid_mechanism(target: Target) -> None:
    """A mechanism the server did not offer gets <invalid-mechanism/>."""
    async with secured(target) as client:
        answer = await client.sasl_step(f"<auth xmlns='{ns.SASL}' mechanism='X-COMPAT-NONE'>AA==</auth>")
        assert failure_condition(answer) == "invalid-mechanism", describe(answer)


@spec("RFC6120", "6.5.5", category="Core Server")
async def test_incorrect_encoding(target: Target) -> None:
    """Data that is not valid base64 gets <incorrect-encoding/> (or <malformed-request/>)."""
    async with secured(target) as client:
        mechanism = first_mechanism(client)
        answer = await client.sasl_step(f"<auth xmlns='{ns.SASL}' mechanism='{mechanism}'>!!not*base64!!</auth>")
        condition = failure_condition(answer)
        assert condition in ("incorrect-encoding", "malformed-request"), f"<{condition}/>"


@spec("RFC6120", "6.4.4", category="Core Server")
async def test_abort(target: Target, accounts: list[Account]) -> None:
    """<abort/> during a SCRAM exchange gets <failure><aborted/></failure>."""
    async with secured(target) as client:
        mechanism = scram_mechanism(client)
        scram = scramp.ScramClient([mechanism], accounts[0].local, accounts[0].password)
        first = base64.b64encode(scram.get_client_first().encode()).decode()
        answer = await client.sasl_step(f"<auth xmlns='{ns.SASL}' mechanism='{mechanism}'>{first}</auth>")
        assert local_name(answer.tag) == "challenge", describe(answer)
        answer = await client.sasl_step(f"<abort xmlns='{ns.SASL}'/>")
        assert failure_condition(answer) == "aborted", describe(answer)
