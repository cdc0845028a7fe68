"""The login throttle's policy, on a fake clock: delays, lockouts, exemptions and unlocking."""

from __future__ import annotations

import dataclasses

from tigase_py.server.config.schema import LimitsConfig
from tigase_py.server.core.login_guard import LoginGuard, client_key, peer_ip

LIMITS = dataclasses.replace(
    LimitsConfig(),
    login_failures_per_account_ip=3,
    login_failures_per_ip=6,
    login_failures_per_account=5,
    login_lockout=60.0,
    login_delay=0.1,
    http_auth_failures_per_ip=2,
    registrations_per_ip=2,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def guard_with(limits: LimitsConfig = LIMITS) -> tuple[LoginGuard, Clock]:
    clock = Clock()
    return LoginGuard(limits, clock), clock


def test_delay_grows_from_the_second_failure_and_is_capped() -> None:
    guard, _ = guard_with(dataclasses.replace(LIMITS, login_failures_per_account_ip=100, login_failures_per_ip=100))
    delays = [guard.login_failed("192.0.2.1", "alice@localhost") for _ in range(7)]
    assert delays == [0.0, 0.1, 0.2, 0.4, 0.8, 0.8, 0.8]


def test_account_ip_lockout_refuses_that_pair_until_the_period_ends() -> None:
    guard, clock = guard_with()
    for _ in range(3):
        guard.login_failed("192.0.2.1", "alice@localhost")
    assert guard.login_retry_after("192.0.2.1", "alice@localhost") == 60.0
    assert guard.login_retry_after("192.0.2.2", "alice@localhost") == 0.0  # another IP is unaffected
    assert guard.login_retry_after("192.0.2.1", "bob@localhost") == 0.0  # the IP is not locked yet
    clock.now += 61
    assert guard.login_retry_after("192.0.2.1", "alice@localhost") == 0.0


def test_ip_lockout_covers_every_account() -> None:
    guard, _ = guard_with()
    for index in range(6):
        guard.login_failed("192.0.2.9", f"user{index}@localhost")
    assert guard.login_retry_after("192.0.2.9") > 0
    assert guard.login_retry_after("192.0.2.9", "anyone@localhost") > 0


def test_account_lockout_spares_ips_the_owner_logged_in_from() -> None:
    guard, _ = guard_with()
    guard.login_succeeded("198.51.100.7", "alice@localhost")
    for index in range(5):  # a distributed guesser: one failure from each of five IPs
        guard.login_failed(f"203.0.113.{index}", "alice@localhost")
    assert guard.login_retry_after("203.0.113.77", "alice@localhost") > 0  # a new IP is locked out
    assert guard.login_retry_after("198.51.100.7", "alice@localhost") == 0.0  # the owner's usual IP is not


def test_success_clears_the_pair_but_not_the_ip_count() -> None:
    guard, _ = guard_with()
    for _ in range(2):
        guard.login_failed("192.0.2.1", "alice@localhost")
    guard.login_succeeded("192.0.2.1", "alice@localhost")
    assert guard.login_failed("192.0.2.1", "alice@localhost") == 0.2  # the IP count (3) drives the delay
    assert guard.login_retry_after("192.0.2.1", "alice@localhost") == 0.0


def test_trusted_networks_are_never_counted() -> None:
    guard, _ = guard_with(dataclasses.replace(LIMITS, trusted_networks=("127.0.0.0/8", "::1/128")))
    for _ in range(20):
        assert guard.login_failed("127.0.0.1", "alice@localhost") == 0.0
        guard.http_failed("::1")
        guard.registration_attempted("127.0.0.1")
    assert guard.login_retry_after("127.0.0.1", "alice@localhost") == 0.0
    assert guard.http_retry_after("::1") == 0.0
    assert guard.registration_retry_after("127.0.0.1") == 0.0
    assert guard.is_trusted("::1") and not guard.is_trusted("192.0.2.1") and not guard.is_trusted("bogus")


def test_unlock_account_and_unlock_ip() -> None:
    guard, _ = guard_with()
    for index in range(6):
        guard.login_failed("192.0.2.1", "alice@localhost" if index < 3 else f"user{index}@localhost")
    guard.http_failed("192.0.2.1")
    guard.http_failed("192.0.2.1")
    kinds = {row["kind"] for row in guard.lockouts()}
    assert kinds == {"account-ip", "ip", "http-ip"}
    assert guard.unlock_account("alice@localhost") >= 1
    assert guard.login_retry_after("192.0.2.1", "alice@localhost") > 0  # the IP itself is still locked
    assert guard.unlock_ip("192.0.2.1") >= 2
    assert guard.login_retry_after("192.0.2.1", "alice@localhost") == 0.0
    assert guard.http_retry_after("192.0.2.1") == 0.0
    assert guard.lockouts() == []


def test_rest_failures_lock_the_ip_for_the_lockout_period() -> None:
    guard, clock = guard_with()
    guard.http_failed("192.0.2.5")
    assert guard.http_retry_after("192.0.2.5") == 0.0
    guard.http_failed("192.0.2.5")
    assert guard.http_retry_after("192.0.2.5") == 60.0
    clock.now += 60
    assert guard.http_retry_after("192.0.2.5") == 0.0


def test_registrations_per_ip_per_hour() -> None:
    guard, clock = guard_with()
    for _ in range(2):
        assert guard.registration_retry_after("192.0.2.3") == 0.0
        guard.registration_attempted("192.0.2.3")
    assert guard.registration_retry_after("192.0.2.3") == 3600.0
    clock.now += 3600
    assert guard.registration_retry_after("192.0.2.3") == 0.0
    unlimited, _ = guard_with(dataclasses.replace(LIMITS, registrations_per_ip=0))
    for _ in range(50):
        unlimited.registration_attempted("192.0.2.3")
    assert unlimited.registration_retry_after("192.0.2.3") == 0.0


def test_failures_are_forgotten_a_lockout_period_after_the_last() -> None:
    guard, clock = guard_with()
    guard.login_failed("192.0.2.1", "alice@localhost")
    guard.login_failed("192.0.2.1", "alice@localhost")
    clock.now += 61
    assert guard.login_failed("192.0.2.1", "alice@localhost") == 0.0  # counting starts again


def test_peer_ip_strips_the_port() -> None:
    assert peer_ip("192.0.2.1:5222") == "192.0.2.1"
    assert peer_ip("::1:40000") == "::1"
    assert peer_ip("") == ""


def test_ipv6_clients_are_counted_by_their_64_and_mapped_ipv4_as_ipv4() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert client_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert client_key("::1") == "::1" and client_key("192.0.2.1") == "192.0.2.1"
    guard, _ = guard_with()
    for host in range(6):  # one failure from each of six addresses of the same /64
        guard.login_failed(f"2001:db8:1:2::{host + 1}", f"user{host}@localhost")
    assert guard.login_retry_after("2001:db8:1:2::ffff") > 0
    assert guard.login_retry_after("2001:db8:1:3::1") == 0.0
    assert guard.unlock_ip("2001:db8:1:2::9") >= 1
    assert guard.login_retry_after("2001:db8:1:2::ffff") == 0.0
    trusting, _ = guard_with(dataclasses.replace(LIMITS, trusted_networks=("192.0.2.0/24",)))
    assert trusting.is_trusted("::ffff:192.0.2.1")
