"""The SNMP channel: GET the server's scalars and WALK its metrics table (v2c community or v3 authPriv).

Layout under the base OID (default ``1.3.6.1.4.1.32473.1``, RFC 5612's documentation enterprise):
scalars ``base.1.N.0`` and the table ``base.2.1.{2 name, 3 value text, 4 integer}.<i>``.

A wrong v2c community gets no reply at all (RFC 3584 agents drop it silently), so it looks exactly
like a host that is down; the message says both.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from tigase_py.monitoring import model

DEFAULT_BASE = "1.3.6.1.4.1.32473.1"
SCALARS = {
    1: "version",
    2: "uptime",
    3: "sessions",
    4: "connections",
    5: "registered_users",
    6: "auth_failures",
    7: "stanzas_in",
    8: "open_files",
    9: "open_files_limit",
    10: "resident_kib",
    11: "storage_up",
    12: "vhosts",
}
COLUMN_NAME, COLUMN_TEXT, COLUMN_INTEGER = 2, 3, 4
BULK_ROWS = 50
AUTH_PROTOCOLS = {"SHA": "USM_AUTH_HMAC96_SHA", "SHA256": "USM_AUTH_HMAC192_SHA256", "MD5": "USM_AUTH_HMAC96_MD5"}
PRIV_PROTOCOLS = {"AES": "USM_PRIV_CFB128_AES", "DES": "USM_PRIV_CBC56_DES"}
AUTH_WORDS = ("usm", "user", "digest", "authentication", "decrypt", "privacy")


@dataclass(frozen=True, slots=True)
class SnmpTarget:
    host: str = "127.0.0.1"
    port: int = 1161
    community: str | None = "public"
    user: str | None = None
    auth_key: str | None = None
    priv_key: str | None = None
    auth_protocol: str = "SHA"
    priv_protocol: str = "AES"
    base_oid: str = DEFAULT_BASE

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def credential_hint(self) -> str:
        return "--snmp-user/--snmp-auth-key/--snmp-priv-key" if self.user else "--snmp-community"


def _credentials(target: SnmpTarget) -> Any:
    from pysnmp.hlapi.v3arch import asyncio as hlapi

    if target.user:
        if not target.auth_key or not target.priv_key:
            raise model.ProbeFailure("error", "snmp: an SNMPv3 user needs --snmp-auth-key and --snmp-priv-key")
        auth = getattr(hlapi, AUTH_PROTOCOLS.get(target.auth_protocol.upper(), "USM_AUTH_HMAC96_SHA"))
        priv = getattr(hlapi, PRIV_PROTOCOLS.get(target.priv_protocol.upper(), "USM_PRIV_CFB128_AES"))
        return hlapi.UsmUserData(target.user, target.auth_key, target.priv_key, authProtocol=auth, privProtocol=priv)
    return hlapi.CommunityData(target.community or "public", mpModel=1)


def _check(target: SnmpTarget, timeout: float, indication: object, status: object, index: object) -> None:
    if indication:
        text = str(indication)
        lowered = text.lower()
        if "timeout" in lowered or "no snmp response" in lowered:
            raise model.ProbeFailure(
                "unreachable",
                f"snmp: no response from {target.address} within {timeout:g} s "
                f"(agent down, or wrong community/user; check {target.credential_hint()})",
            )
        kind: model.FailureKind = "auth" if any(w in lowered for w in AUTH_WORDS) else "error"
        suffix = f" (check {target.credential_hint()})" if kind == "auth" else ""
        raise model.ProbeFailure(kind, f"snmp: {target.address}: {text}{suffix}")
    if status and int(status):  # type: ignore[call-overload]
        raise model.ProbeFailure("error", f"snmp: {target.address} answered {status} at {index}")


def _value(raw: Any) -> model.MetricValue | None:
    """Plain Python value of a pysnmp syntax object; None for noSuchObject/noSuchInstance."""
    name = type(raw).__name__
    if name in ("NoSuchObject", "NoSuchInstance", "EndOfMibView", "Null"):
        return None
    if name == "OctetString":
        return str(raw.prettyPrint())
    try:
        return int(raw)
    except (TypeError, ValueError):
        return str(raw.prettyPrint())


def _fill(result: model.ProbeResult, scalars: dict[str, model.MetricValue]) -> None:
    def whole(name: str) -> int | None:
        value = model.number(scalars.get(name))
        return None if value is None else int(value)

    if "version" in scalars:
        result.version = str(scalars["version"])
    if (ticks := model.number(scalars.get("uptime"))) is not None:
        result.uptime_seconds = ticks / 100  # TimeTicks are hundredths of a second
    result.sessions = whole("sessions")
    result.registered_users = whole("registered_users")
    result.auth_failures = model.number(scalars.get("auth_failures"))
    result.messages_total = None  # stanzas_in counts every kind; messages come from the table
    result.open_files = whole("open_files")
    result.open_files_limit = whole("open_files_limit")
    result.resident_kib = model.number(scalars.get("resident_kib"))
    if (up := model.number(scalars.get("storage_up"))) is not None:
        result.storage_up = up >= 1


async def probe(target: SnmpTarget, timeout: float = 5.0) -> model.ProbeResult:
    """GET the scalars, WALK the table; raise ``ProbeFailure`` on no reply or an auth report."""
    from pysnmp.hlapi.v3arch import asyncio as hlapi

    start = time.perf_counter()
    base = tuple(int(part) for part in target.base_oid.strip(".").split("."))
    engine = hlapi.SnmpEngine()
    try:
        try:
            transport = await hlapi.UdpTransportTarget.create((target.host, target.port), timeout=timeout, retries=0)
        except Exception as exc:  # pysnmp wraps resolver errors in its own PySnmpError
            raise model.ProbeFailure("unreachable", f"snmp: cannot resolve {target.host}: {exc}") from exc
        credentials = _credentials(target)
        objects = [hlapi.ObjectType(hlapi.ObjectIdentity((*base, 1, n, 0))) for n in SCALARS]
        indication, status, index, binds = await hlapi.get_cmd(
            engine, credentials, transport, hlapi.ContextData(), *objects
        )
        _check(target, timeout, indication, status, index)
        scalars: dict[str, model.MetricValue] = {}
        for name, bind in zip(SCALARS.values(), binds, strict=False):
            value = _value(bind[1])
            if value is not None:
                scalars[name] = value
        rows: dict[int, dict[int, model.MetricValue]] = {}
        table = (*base, 2, 1)
        # GETBULK: one GETNEXT per cell would be one round trip per cell (hundreds of them).
        async for indication, status, index, walked in hlapi.bulk_walk_cmd(
            engine, credentials, transport, hlapi.ContextData(), 0, BULK_ROWS,
            hlapi.ObjectType(hlapi.ObjectIdentity(table)), lexicographicMode=False,
        ):  # fmt: skip
            _check(target, timeout, indication, status, index)
            for oid, raw in walked:
                parts = tuple(oid)
                if len(parts) != len(table) + 2 or parts[: len(table)] != table:
                    continue
                value = _value(raw)
                if value is not None:
                    rows.setdefault(parts[-1], {})[parts[-2]] = value
    finally:
        engine.close_dispatcher()
    result = model.ProbeResult(target.address, "snmp", ok=True, latency_ms=(time.perf_counter() - start) * 1000)
    for row in rows.values():
        if COLUMN_NAME in row:
            value = row.get(COLUMN_TEXT, row.get(COLUMN_INTEGER))
            if value is not None:
                numeric = model.number(value)
                result.metrics[str(row[COLUMN_NAME])] = value if numeric is None else numeric
    _fill(result, scalars)
    if isinstance(scalars.get("vhosts"), str):  # a list of names; an integer is only a count
        result.vhosts = [v for v in str(scalars["vhosts"]).replace(",", " ").split() if v]
    return model.summarize(result)
