"""Statistics and login lockouts of the running server: every metric (optionally filtered), the
lockouts the login throttle (``core/login_guard.py``) holds, and lifting them."""

from __future__ import annotations

import ipaddress
from typing import Any

from tigase_py.server.admin.args import account
from tigase_py.server.admin.operation import AdminError, Call, Operation, Param, Result

STATISTICS_NODE = "stats"


def format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"


async def statistics(call: Call, args: dict[str, Any]) -> Result:
    needle = (args.get("filter") or "").lower()
    snapshot = call.deps.live_metrics()()
    rows = [
        {"name": name, "value": format_number(value)}
        for name, value in sorted(snapshot.items())
        if needle in name.lower()
    ]
    return Result(f"{len(rows)} metric(s)", rows=rows)


async def unlock_login(call: Call, args: dict[str, Any]) -> Result:
    guard = call.deps.live_lockouts()
    text_jid, text_ip = args.get("accountjid"), args.get("ip")
    if not text_jid and not text_ip:
        raise AdminError("give accountjid, ip or both")
    lifted: list[str] = []
    cleared = 0
    if text_jid:
        bare = account(call, text_jid).bare_str
        cleared += guard.unlock_account(bare)
        lifted.append(bare)
    if text_ip:
        try:
            ip = str(ipaddress.ip_address(text_ip.strip()))
        except ValueError:
            raise AdminError(f"{text_ip!r} is not an IP address") from None
        cleared += guard.unlock_ip(ip)
        lifted.append(ip)
    note = (
        f"Failed logins forgotten for {' and '.join(lifted)}"
        if cleared
        else f"No failures recorded for {' or '.join(lifted)}"
    )
    return Result(note, values={"unlocked": lifted, "entries_cleared": cleared})


async def list_lockouts(call: Call, args: dict[str, Any]) -> Result:
    rows = call.deps.live_lockouts().lockouts()
    return Result(f"{len(rows)} lockout(s)", rows=rows)


def operations() -> list[Operation]:
    return [
        Operation(
            "get-statistics", "Get Statistics", "Every server metric, optionally filtered by a substring of its name",
            statistics, (Param("filter", "text-single", "Only metrics whose name contains"),),
            node=STATISTICS_NODE, scope="read", live_only=True, columns=("name", "value"),
        ),
        Operation(
            "unlock-login", "Unlock Logins",
            "Forget the failed logins of an account (from every IP) and/or of an IP (SASL, REST, registration)",
            unlock_login,
            (Param("accountjid", "jid-single", "Account to unlock"),
             Param("ip", "text-single", "Client IP address to unlock")),
            live_only=True, returns=("unlocked", "entries_cleared"),
        ),
        Operation(
            "list-login-lockouts", "List Login Lockouts",
            "Accounts and IPs locked out after failed logins or too many registrations", list_lockouts,
            scope="read", live_only=True, columns=("kind", "account", "ip", "failures", "seconds_left"),
        ),
    ]  # fmt: skip
