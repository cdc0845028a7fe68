"""The XMPP channel: log in as an admin and run ad-hoc commands (XEP-0050).

XEP-0133 ``get-online-users-num`` and ``get-registered-users-num`` work on any server that
implements them (ours, Prosody's ``mod_admin_adhoc``, ejabberd, Tigase). Our server also offers a
statistics command, found in the command list by a name containing "statistics"; each numeric
field of its result form becomes a metric. Version (XEP-0092) and uptime (XEP-0012 on the server
JID) are read when the server answers them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from dataclasses import dataclass
from typing import Any

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout

from tigase_py.monitoring import model

ADMIN = "http://jabber.org/protocol/admin#"
ONLINE_USERS = ADMIN + "get-online-users-num"
REGISTERED_USERS = ADMIN + "get-registered-users-num"
ONLINE_LIST = ADMIN + "get-online-users-list"  # the fallback when the count is missing (Prosody 0.12)
ONLINE_LIST_FIELD = "onlineuserjids"
FIELDS = {ONLINE_USERS: "onlineusersnum", REGISTERED_USERS: "registeredusersnum"}

# slixmpp logs failures itself ("No appropriate login method."); we report them once, as one line.
logging.getLogger("slixmpp").addHandler(logging.NullHandler())


@dataclass(frozen=True, slots=True)
class XmppTarget:
    jid: str
    password: str
    host: str | None = None  # default: the JID's domain (DNS SRV)
    port: int = 5222
    verify_tls: bool = True
    direct_tls: bool = False  # TLS from the first byte (port 5223) instead of STARTTLS

    @property
    def domain(self) -> str:
        return self.jid.partition("@")[2].partition("/")[0]

    @property
    def address(self) -> str:
        return f"{self.host or self.domain}:{self.port}"


class _AdminClient(slixmpp.ClientXMPP):
    def __init__(self, target: XmppTarget) -> None:
        super().__init__(target.jid, target.password)
        if not target.verify_tls:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            self.ssl_context = context
        # Only the chosen mode: slixmpp otherwise tries direct TLS first and reports that failure.
        self.enable_direct_tls = target.direct_tls
        self.enable_starttls = not target.direct_tls
        for plugin in ("xep_0030", "xep_0004", "xep_0050", "xep_0092", "xep_0012"):
            self.register_plugin(plugin)
        loop = asyncio.get_running_loop()
        self.outcome: asyncio.Future[str | None] = loop.create_future()
        self.add_event_handler("session_start", lambda _: self._settle(None))
        self.add_event_handler("failed_all_auth", lambda _: self._settle("auth"))
        self.add_event_handler("connection_failed", self._connection_failed)
        # Handled here, slixmpp reports a STARTTLS certificate failure instead of just disconnecting.
        self.add_event_handler("ssl_invalid_chain", lambda err: self._settle(model.certificate_reason(err)))
        self.add_event_handler("disconnected", self._connection_failed)  # carries the TLS error, if any
        self.add_event_handler("stream_error", lambda err: self._settle(f"stream error {err['condition']}"))

    def _connection_failed(self, error: object) -> None:
        """A certificate error (direct TLS at connect, STARTTLS at disconnect) is named; anything else is
        unreachable."""
        is_certificate = isinstance(error, ssl.SSLCertVerificationError)
        self._settle(model.certificate_reason(error) if is_certificate else "unreachable")

    def _settle(self, outcome: str | None) -> None:
        if not self.outcome.done():
            self.outcome.set_result(outcome)


def _form_values(iq: Any) -> dict[str, Any]:
    """``var`` → value of each field in the command's data form (empty when there is none).

    A result table (``<reported/>`` + ``<item/>``s) of name/value columns, as our statistics
    command answers, gives one entry per row: ``name`` → ``value``.
    """
    form = iq["command"]["form"]
    values = {var: field.get_value() for var, field in form.get_fields().items() if var and var != "FORM_TYPE"}
    for item in form["items"]:
        name, value = item.get("name"), item.get("value")
        if isinstance(name, str) and name:
            values[name] = value
    return values


async def _execute(client: _AdminClient, to: str, node: str, timeout: float) -> dict[str, Any]:
    """Execute a command; when it first asks for a form, submit it unchanged (defaults)."""
    adhoc: Any = client.plugin["xep_0050"]
    reply = await adhoc.send_command(to, node, timeout=timeout)
    if reply["command"]["status"] == "executing":
        form = reply["command"]["form"]
        form["type"] = "submit"
        reply = await adhoc.send_command(
            to, node, action="complete", sessionid=reply["command"]["sessionid"], payload=form, timeout=timeout
        )
    return _form_values(reply)


def _numeric(values: dict[str, Any]) -> dict[str, model.MetricValue]:
    metrics: dict[str, model.MetricValue] = {}
    for var, value in values.items():
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else None
        number = model.number(value)
        if number is not None:
            metrics[var] = int(number) if number.is_integer() else number
    return metrics


async def _read(client: _AdminClient, target: XmppTarget, timeout: float) -> model.ProbeResult:
    domain = target.domain
    disco: Any = client.plugin["xep_0030"]
    try:
        items = await disco.get_items(jid=domain, node="http://jabber.org/protocol/commands", timeout=timeout)
    except IqError as exc:
        raise model.ProbeFailure("error", f"xmpp: {domain} refused the command list ({exc.condition})") from exc
    commands = {node: name or "" for _, node, name in items["disco_items"]["items"]}
    wanted = [node for node in (ONLINE_USERS, REGISTERED_USERS) if node in commands]
    # Ours only; XEP-0133's own "user statistics" (admin#user-stats) is per user and needs a JID.
    stats_nodes = [n for n, name in commands.items() if "statistics" in name.lower() and not n.startswith(ADMIN)]
    if not wanted and not stats_nodes and ONLINE_LIST not in commands:
        raise model.ProbeFailure(
            "auth", f"xmpp: {target.jid} is offered no admin commands on {domain} (not an admin? check --xmpp-jid)"
        )
    result = model.ProbeResult(target.address, "xmpp", ok=True, latency_ms=0.0)
    for node in wanted:
        try:
            values = await _execute(client, domain, node, timeout)
        except IqError as exc:
            raise model.ProbeFailure("auth", f"xmpp: {node.rpartition('#')[2]}: {exc.condition}") from exc
        result.metrics[node.rpartition("#")[2]] = _numeric(values).get(FIELDS[node], -1)
    online, registered = result.metrics.get("get-online-users-num"), result.metrics.get("get-registered-users-num")
    result.sessions = None if online is None or model.number(online) == -1 else int(online)
    result.registered_users = None if registered is None or model.number(registered) == -1 else int(registered)
    if result.sessions is None and ONLINE_LIST in commands:
        with contextlib.suppress(IqError):
            listed = (await _execute(client, domain, ONLINE_LIST, timeout)).get(ONLINE_LIST_FIELD)
            if isinstance(listed, str):  # slixmpp joins a text-multi field's values with newlines
                listed = listed.splitlines()
            if isinstance(listed, list):
                result.sessions = len([jid for jid in listed if jid])
    for node in stats_nodes[:1]:
        with contextlib.suppress(IqError):
            result.metrics.update(_numeric(await _execute(client, domain, node, timeout)))
    with contextlib.suppress(IqError, IqTimeout):
        version = await client.plugin["xep_0092"].get_version(slixmpp.JID(domain), timeout=timeout)
        software = version["software_version"]
        result.version = f"{software['name']} {software['version']}".strip() or None
    with contextlib.suppress(IqError, IqTimeout):
        last = await client.plugin["xep_0012"].get_last_activity(slixmpp.JID(domain), timeout=timeout)
        if model.UPTIME not in result.metrics:  # the process's own uptime is more precise
            result.uptime_seconds = float(last["last_activity"]["seconds"])
    return model.summarize(result)


async def probe(target: XmppTarget, timeout: float = 10.0) -> model.ProbeResult:
    """Log in, list and run the admin commands, log out; raise ``ProbeFailure``."""
    if "@" not in target.jid or not target.domain:
        raise model.ProbeFailure("error", f"xmpp: {target.jid!r} is not a user JID (give --xmpp-jid admin@domain)")
    start = time.perf_counter()
    client = _AdminClient(target)
    try:
        client.connect(host=target.host or "", port=target.port)
        try:
            outcome = await asyncio.wait_for(asyncio.shield(client.outcome), timeout)
        except TimeoutError as exc:
            raise model.ProbeFailure(
                "unreachable", f"xmpp: no session with {target.address} within {timeout:g} s"
            ) from exc
        if outcome == "auth":
            raise model.ProbeFailure("auth", f"xmpp: authentication failed for {target.jid} (check --xmpp-password)")
        if outcome == "unreachable":
            raise model.ProbeFailure("unreachable", f"xmpp: cannot connect to {target.address}")
        if outcome is not None and outcome.startswith("certificate verify failed"):
            raise model.ProbeFailure(
                "error", f"xmpp: {target.address}: {outcome} (--xmpp-no-verify accepts any certificate)"
            )
        if outcome is not None:
            raise model.ProbeFailure("error", f"xmpp: {target.address}: {outcome}")
        try:
            result = await asyncio.wait_for(_read(client, target, timeout), timeout * 3)
        except (IqTimeout, TimeoutError) as exc:
            raise model.ProbeFailure(
                "unreachable", f"xmpp: {target.domain} did not answer within {timeout:g} s"
            ) from exc
    finally:
        await _close(client)
    result.latency_ms = (time.perf_counter() - start) * 1000
    return result


async def _close(client: _AdminClient) -> None:
    if client.is_connected():
        client.disconnect(wait=1.0)
    else:
        client.abort()
    with contextlib.suppress(TimeoutError, asyncio.CancelledError):
        await asyncio.wait_for(asyncio.shield(client.disconnected), 3)
