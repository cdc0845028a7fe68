"""Admin commands over the login throttle (:mod:`tigase_py.server.core.login_guard`): list the lockouts
in force and lift them. Offered, like every command, as XEP-0050 ad-hoc commands (nodes ``unlock-login``
and ``list-login-lockouts``), ``POST /api/v1/commands/<name>`` and, through REST, ``tigase-py user unlock``
and ``tigase-py auth unlock --ip``.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from tigase_py.server.core.admin_commands import account
from tigase_py.server.core.commands import Command, CommandContext, CommandError, CommandResult, Param


async def unlock_login(ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
    guard = ctx.server.login_guard
    text_jid, text_ip = args.get("accountjid"), args.get("ip")
    if not text_jid and not text_ip:
        raise CommandError("give accountjid, ip or both")
    lifted: list[str] = []
    cleared = 0
    if text_jid:
        bare = account(ctx, text_jid).bare_str
        cleared += guard.unlock_account(bare)
        lifted.append(bare)
    if text_ip:
        try:
            ip = str(ipaddress.ip_address(text_ip.strip()))
        except ValueError:
            raise CommandError(f"{text_ip!r} is not an IP address") from None
        cleared += guard.unlock_ip(ip)
        lifted.append(ip)
    note = (
        f"Failed logins forgotten for {' and '.join(lifted)}"
        if cleared
        else f"No failures recorded for {' or '.join(lifted)}"
    )
    return CommandResult(note, values={"unlocked": lifted, "entries_cleared": cleared})


async def list_lockouts(ctx: CommandContext, args: dict[str, Any]) -> CommandResult:
    rows = ctx.server.login_guard.lockouts()
    return CommandResult(f"{len(rows)} lockout(s)", rows=rows)


def commands() -> list[Command]:
    return [
        Command(
            "unlock-login",
            "Unlock Logins",
            "Forget the failed logins of an account (from every IP) and/or of an IP (SASL, REST, registration)",
            unlock_login,
            params=(
                Param("accountjid", "jid-single", "Account to unlock"),
                Param("ip", "text-single", "Client IP address to unlock"),
            ),
        ),
        Command(
            "list-login-lockouts",
            "List Login Lockouts",
            "Accounts and IPs locked out after failed logins or too many registrations",
            list_lockouts,
        ),
    ]
