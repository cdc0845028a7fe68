"""Throttles for password guessing and sign-up floods: failed SASL logins, failed REST logins and
in-band registrations, counted in memory by client IP and account.

SASL (RFC 6120 §6.4.5 leaves the policy to the server):

- every credential failure (``not-authorized``) counts against the (account, IP) pair, the IP and the
  account, whether the account exists or not (so the lockout reveals nothing about existence);
- from the second failure on, the ``<failure/>`` is delayed: ``login_delay``, doubling per failure, at
  most 8× — the delay holds only the guessing connection's queue, never the event loop;
- ``login_failures_per_account_ip`` failures lock the account for that IP, ``login_failures_per_ip``
  lock the IP for every account; both for ``login_lockout``;
- ``login_failures_per_account`` (higher) failures from anywhere lock the account, *except* from IPs
  it logged in from successfully since the server started: a distributed guesser cannot lock the owner
  out of the places they already use;
- while locked, even the right password gets ``<temporary-auth-failure/>`` (RFC 6120 §6.5.11) with a
  text saying when to retry, and no password is checked (no CPU spent).

Networks in ``[limits] trusted_networks`` are never counted or locked. IPv6 clients are counted by
their /64 (see :func:`client_key`). Lockouts are lifted by the
``unlock-login`` admin command (ad-hoc, REST, CLI). All state is in memory: a restart forgets it.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tigase_py.server.core import networks

if TYPE_CHECKING:
    from tigase_py.server.config.schema import LimitsConfig

CAPACITY = 100_000  # entries per table; the oldest are forgotten first, so memory stays bounded
KNOWN_SECONDS = 30 * 86400.0  # how long a successful (account, IP) pair stays exempt from account lockout
MAX_DELAY_FACTOR = 8
REGISTRATION_WINDOW = 3600.0


@dataclass(slots=True)
class Strikes:
    count: int
    last: float
    locked_until: float = 0.0


class StrikeTable:
    """Counts by key, forgotten ``window`` seconds after the last one; ``threshold`` of them lock the key
    for ``window`` seconds. Bounded: past ``CAPACITY`` keys the least recently struck is dropped."""

    def __init__(self, threshold: int, window: float, clock: Callable[[], float]) -> None:
        self.threshold = threshold
        self.window = window
        self.clock = clock
        self._entries: OrderedDict[Any, Strikes] = OrderedDict()

    def _current(self, key: Any, now: float) -> Strikes | None:
        entry = self._entries.get(key)
        if entry is not None and entry.locked_until <= now and now - entry.last >= self.window:
            del self._entries[key]
            return None
        return entry

    def retry_after(self, key: Any) -> float:
        """Seconds until ``key`` is unlocked; 0 when it is not locked."""
        now = self.clock()
        entry = self._current(key, now)
        return max(0.0, entry.locked_until - now) if entry is not None else 0.0

    def strike(self, key: Any) -> int:
        """Count one more against ``key``; return the count (the key locks when it reaches the threshold)."""
        now = self.clock()
        entry = self._current(key, now)
        if entry is None:
            entry = self._entries[key] = Strikes(0, now)
            if len(self._entries) > CAPACITY:
                self._entries.popitem(last=False)
        entry.count += 1
        entry.last = now
        self._entries.move_to_end(key)
        if entry.count >= self.threshold and entry.locked_until <= now:
            entry.locked_until = now + self.window
        return entry.count

    def forget(self, match: Callable[[Any], bool]) -> int:
        keys = [key for key in self._entries if match(key)]
        for key in keys:
            del self._entries[key]
        return len(keys)

    def locked(self) -> list[tuple[Any, float, int]]:
        """(key, seconds left, count) of every locked key."""
        now = self.clock()
        return [(key, e.locked_until - now, e.count) for key, e in self._entries.items() if e.locked_until > now]


def peer_ip(peer: str) -> str:
    """``"1.2.3.4:5678"`` / ``"::1:5678"`` (as connections record their peer) → the address part."""
    return peer.rpartition(":")[0] if ":" in peer else peer


def client_key(ip: str) -> str:
    """What the per-IP counters are keyed by: the IPv4 address (also when IPv4-mapped), or the /64 of
    an IPv6 address, since one IPv6 client usually holds a whole /64. Unparseable input stays as is."""
    address = networks.parse_address(ip)
    if address is None:
        return ip
    if isinstance(address, ipaddress.IPv6Address) and not address.is_loopback:
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def retry_text(seconds: float) -> str:
    return f"try again in {math.ceil(seconds)} s"


class LoginGuard:
    """The server's one set of throttles; see the module docstring for the policy."""

    def __init__(self, limits: LimitsConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.trusted = networks.TrustedNetworks(limits.trusted_networks)
        lockout = limits.login_lockout
        self.by_account_ip = StrikeTable(limits.login_failures_per_account_ip, lockout, clock)
        self.by_ip = StrikeTable(limits.login_failures_per_ip, lockout, clock)
        self.by_account = StrikeTable(limits.login_failures_per_account, lockout, clock)
        self.http = StrikeTable(limits.http_auth_failures_per_ip, lockout, clock)
        self.registrations = StrikeTable(max(1, limits.registrations_per_ip), REGISTRATION_WINDOW, clock)
        self._known: OrderedDict[tuple[str, str], float] = OrderedDict()

    def is_trusted(self, ip: str) -> bool:
        return ip in self.trusted

    def _is_known(self, account: str, source: str) -> bool:
        seen = self._known.get((account, source))
        return seen is not None and self.clock() - seen < KNOWN_SECONDS

    # -- SASL --------------------------------------------------------------
    def login_retry_after(self, ip: str, account: str | None = None) -> float:
        """Seconds until a login from ``ip`` (for ``account``, when known) may be tried; 0 = now."""
        if self.is_trusted(ip):
            return 0.0
        source = client_key(ip)
        wait = self.by_ip.retry_after(source)
        if account is not None:
            wait = max(wait, self.by_account_ip.retry_after((account, source)))
            if not self._is_known(account, source):
                wait = max(wait, self.by_account.retry_after(account))
        return wait

    def login_failed(self, ip: str, account: str | None) -> float:
        """Count a credential failure; return how long to hold the ``<failure/>`` back (seconds)."""
        if self.is_trusted(ip):
            return 0.0
        source = client_key(ip)
        count = self.by_ip.strike(source)
        if account is not None:
            count = max(count, self.by_account_ip.strike((account, source)))
            self.by_account.strike(account)
        if count < 2:
            return 0.0
        return self.limits.login_delay * min(MAX_DELAY_FACTOR, 2 ** (count - 2))

    def login_succeeded(self, ip: str, account: str) -> None:
        pair = (account, client_key(ip))
        self.by_account_ip.forget(lambda key: key == pair)
        self._known[pair] = self.clock()
        self._known.move_to_end(pair)
        if len(self._known) > CAPACITY:
            self._known.popitem(last=False)

    # -- REST --------------------------------------------------------------
    def http_retry_after(self, ip: str) -> float:
        return 0.0 if self.is_trusted(ip) else self.http.retry_after(client_key(ip))

    def http_failed(self, ip: str) -> None:
        if not self.is_trusted(ip):
            self.http.strike(client_key(ip))

    # -- in-band registration ---------------------------------------------
    def registration_retry_after(self, ip: str) -> float:
        if self.limits.registrations_per_ip == 0 or self.is_trusted(ip):
            return 0.0
        return self.registrations.retry_after(client_key(ip))

    def registration_attempted(self, ip: str) -> None:
        if self.limits.registrations_per_ip and not self.is_trusted(ip):
            self.registrations.strike(client_key(ip))

    # -- administration ----------------------------------------------------
    def unlock_account(self, account: str) -> int:
        """Forget every failure counted against ``account`` (from any IP); return how many entries went."""
        return self.by_account.forget(lambda key: key == account) + self.by_account_ip.forget(
            lambda key: key[0] == account
        )

    def unlock_ip(self, ip: str) -> int:
        """Forget every failure (SASL, REST, registration) counted against ``ip`` (its /64 for IPv6)."""
        source = client_key(ip)
        return (
            self.by_ip.forget(lambda key: key == source)
            + self.by_account_ip.forget(lambda key: key[1] == source)
            + self.http.forget(lambda key: key == source)
            + self.registrations.forget(lambda key: key == source)
        )

    def lockouts(self) -> list[dict[str, Any]]:
        """Every lockout in force, for the admin listing."""
        rows: list[dict[str, Any]] = []
        tables = (
            ("ip", self.by_ip),
            ("account-ip", self.by_account_ip),
            ("account", self.by_account),
            ("http-ip", self.http),
            ("registration-ip", self.registrations),
        )
        for kind, table in tables:
            for key, left, count in table.locked():
                account, ip = key if kind == "account-ip" else (key, "") if kind == "account" else ("", key)
                rows.append(
                    {"kind": kind, "account": account, "ip": ip, "failures": count, "seconds_left": math.ceil(left)}
                )
        return rows
