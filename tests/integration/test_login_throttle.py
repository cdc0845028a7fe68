"""Password guessing against a live server: progressive delay, lockout (issue 12, defect 4), the
trusted-network allow-list and lifting a lockout through each door (ad-hoc, REST, CLI)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

from tests.helpers import run_cli
from tests.integration.test_adhoc import PLUGINS, run
from tests.login_attempts import attempt, fresh_attempt
from tests.stays_up import bystander, server_process
from tests.xmpp_harness import RawClient, login, running_server, write_config

KEY = {"X-API-Key": "test-api-key-0123456789"}


def throttle(per_pair: int = 5, per_ip: int = 30, trusted: str = "[]", delay: str = "20ms") -> str:
    return f"""
[limits]
login_delay = "{delay}"
login_failures_per_account_ip = {per_pair}
login_failures_per_ip = {per_ip}
login_failures_per_account = 100
login_lockout = "10m"
trusted_networks = {trusted}
# The admission limits are not what these tests are about: let many connections in from loopback.
max_pre_auth_per_ip = 1000
ip_connection_rate = "1000/s"
ip_connection_burst = 1000
"""


async def test_password_guessing_is_delayed_then_locked_out_while_a_bystander_stays_fast(tmp_path: Path) -> None:
    async with server_process(tmp_path, extra=throttle()) as server:
        async with bystander(server.plain_port) as watcher:
            # 200 wrong passwords on one connection (the 0.45 s run).
            raw = await RawClient.connect(server.plain_port)
            await raw.open_stream()
            started = time.perf_counter()
            outcomes = [await attempt(raw, "alice", f"guess{n}") for n in range(200)]
            one_connection = time.perf_counter() - started
            raw.close()
            assert outcomes[:5] == ["not-authorized"] * 5
            locked = "temporary-auth-failure too many failed logins; try again in"
            assert all(o.startswith(locked) for o in outcomes[5:])
            # Even the right password is refused while alice is locked for this address (RFC 6120 §6.5.11).
            right = await fresh_attempt(server.plain_port, "alice", "secret")
            assert right.startswith("temporary-auth-failure") and "try again in" in right

            # 100 connections guessing other accounts, 50 at a time (the run used 200).
            async def guess(index: int) -> str:
                return await fresh_attempt(server.plain_port, f"user{index}", "wrong")

            spread: list[str] = []
            for batch in range(2):
                spread += await asyncio.gather(*(guess(batch * 50 + n) for n in range(50)))
            counted = sum(o == "not-authorized" for o in spread)
            assert counted <= 25 + 50  # the IP locks at 30 failures; one batch may be in flight at that moment
            assert sum(o.startswith("temporary-auth-failure") for o in spread) == 100 - counted
            assert spread[-50:] == [spread[-1]] * 50 and spread[-1].startswith("temporary-auth-failure")
            # Keep guessing (locked, so cheap): ten more attempts between each two pings, until the
            # bystander has 60 round trips to judge by (so its p99 is not just its single worst one).
            deadline = time.monotonic() + 20
            for _ in range(200):
                seen = len(watcher.round_trips)
                if seen >= 60 or watcher.failures or time.monotonic() > deadline:
                    break
                await asyncio.gather(*(guess(n) for n in range(10)))
                while len(watcher.round_trips) == seen and not watcher.failures and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
        assert not watcher.failures
        assert watcher.p99_ms() < 100.0, f"bystander p99 {watcher.p99_ms():.1f} ms"
        assert server.rss_kib() < 256 * 1024  # the throttle's tables stay small
        print(
            f"one connection: 200 attempts in {one_connection:.2f} s; 100 connections: {counted} checked; "
            f"bystander p99 {watcher.p99_ms():.1f} ms over {len(watcher.round_trips)} pings; rss {server.rss_kib()} KiB"
        )
    assert server.tracebacks() == 0


async def test_trusted_network_is_not_throttled_but_an_empty_list_is(tmp_path: Path) -> None:
    async with running_server(tmp_path / "trusted", extra=throttle(per_pair=2, trusted='["127.0.0.0/8"]')) as handle:
        await handle.add_user("alice@localhost")
        outcomes = [await fresh_attempt(handle.plain_port, "alice", "wrong") for _ in range(6)]
        assert outcomes == ["not-authorized"] * 6
        assert await fresh_attempt(handle.plain_port, "alice", "secret") == "success"
    async with running_server(tmp_path / "open", extra=throttle(per_pair=2)) as handle:
        await handle.add_user("alice@localhost")
        outcomes = [await fresh_attempt(handle.plain_port, "alice", "wrong") for _ in range(3)]
        assert outcomes[:2] == ["not-authorized"] * 2 and outcomes[2].startswith("temporary-auth-failure")
        assert (await fresh_attempt(handle.plain_port, "alice", "secret")).startswith("temporary-auth-failure")


async def lock_alice(port: int) -> None:
    for _ in range(2):
        assert await fresh_attempt(port, "alice", "wrong") == "not-authorized"
    assert (await fresh_attempt(port, "alice", "secret")).startswith("temporary-auth-failure")


async def test_a_lockout_is_lifted_by_ad_hoc_rest_and_cli(tmp_path: Path) -> None:
    admins = ("admin@localhost",)
    async with running_server(tmp_path, extra=throttle(per_pair=2), admins=admins) as handle:
        await handle.add_user("admin@localhost")
        admin = await login(handle, "admin@localhost", plugins=PLUGINS)  # logged in before any lockout
        for user in ("alice@localhost", "bob@localhost"):
            await handle.add_user(user)
        port = handle.plain_port

        # XEP-0050 ad-hoc (the XEP-0133 style door).
        await lock_alice(port)
        reply = await run(admin, "unlock-login", {"accountjid": "alice@localhost"})
        assert reply["command"]["status"] == "completed"
        assert await fresh_attempt(port, "alice", "secret") == "success"

        # REST: the same command.
        await lock_alice(port)
        url = f"http://127.0.0.1:{handle.server.config.http.port}/api/v1/commands"
        async with aiohttp.ClientSession(headers=KEY) as http:
            async with http.post(f"{url}/list-login-lockouts", json={}) as response:
                rows = (await response.json())["rows"]
            assert {"kind": "account-ip", "account": "alice@localhost", "ip": "127.0.0.1"}.items() <= rows[0].items()
            async with http.post(f"{url}/unlock-login", json={"ip": "127.0.0.1"}) as response:
                assert response.status == 200
                assert (await response.json())["values"]["unlocked"] == ["127.0.0.1"]
        assert await fresh_attempt(port, "alice", "secret") == "success"

        # CLI: talks to the running server over its admin socket, or over REST with an admin-scope key.
        await lock_alice(port)
        config = str(tmp_path / "tigase.toml")
        result = await asyncio.to_thread(run_cli, "--config", config, "user", "unlock", "alice@localhost")
        assert result.returncode == 0, result.stderr
        assert "alice@localhost" in result.stderr + result.stdout
        assert await fresh_attempt(port, "alice", "secret") == "success"

        await lock_alice(port)
        result = await asyncio.to_thread(run_cli, "--config", config, "auth", "lockouts", "--json")
        assert result.returncode == 0 and '"account": "alice@localhost"' in result.stdout
        rest = ["--http-url", f"http://127.0.0.1:{handle.server.config.http.port}", "--api-key", KEY["X-API-Key"]]
        result = await asyncio.to_thread(run_cli, "--config", config, "auth", "unlock", "--ip", "127.0.0.1", *rest)
        assert result.returncode == 0, result.stderr
        assert await fresh_attempt(port, "alice", "secret") == "success"


async def test_cli_unlock_without_a_running_server_says_so(tmp_path: Path) -> None:
    config, *_ = write_config(tmp_path, ("localhost",))
    result = await asyncio.to_thread(run_cli, "--config", config, "user", "unlock", "alice@localhost")
    assert result.returncode == 3
    assert "cannot reach the server" in result.stderr and "Traceback" not in result.stderr
