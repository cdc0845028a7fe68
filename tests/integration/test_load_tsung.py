"""Tsung (Debian's package) drives our server; its figures come back as a LoadResult."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from tests.xmpp_harness import running_server
from tigase_py.compat_tests.load import results
from tigase_py.compat_tests.load.results import SecondSample
from tigase_py.compat_tests.load.scenario import LoadTarget, Scenario
from tigase_py.compat_tests.load.tsung import run_with_tsung

pytestmark = pytest.mark.skipif(shutil.which("tsung") is None, reason="tsung is installed by scripts/test")
PASSWORD = "tsung-secret"


async def test_tsung_one_to_one_against_our_server_imports_real_figures(tmp_path: Path) -> None:
    scenario = Scenario(name="chat", kind="one-to-one", pairs=3, rate=20, warmup=1, duration=2)
    async with running_server(tmp_path / "server") as handle:
        for n in range(scenario.session_count):
            await handle.add_user(f"load{n}@localhost", PASSWORD)
        target = LoadTarget(host="127.0.0.1", port=handle.plain_port, domain="localhost", tls="plain",
                            mechanism="PLAIN", password=PASSWORD)  # fmt: skip
        seen: list[SecondSample] = []
        result = await asyncio.to_thread(run_with_tsung, target, scenario, tmp_path / "tsung", seen.append)
    assert result.engine == "tsung" and result.status == "ok", result.note
    assert result.sessions_ok == 6 and result.sessions_failed == 0
    assert max(s.sessions for s in result.series) == 6
    # 6 senders × 20 msgs/s: each measured second carries about 120; allow a slow shared machine.
    assert result.measured_s >= 1
    assert 0 < result.sent <= 6 * 20 * (result.measured_s + 1)
    assert 0 < result.delivered <= result.sent + 6 * 20
    assert sum(s.sent for s in result.series) == 6 * 20 * 3  # every message tsung was told to send
    assert result.latency.count >= result.delivered and result.latency.p99_ms > 0
    assert seen and seen[-1] == result.series[len(seen) - 1]
    assert (tmp_path / "tsung" / "tsung.xml").exists()
    again = results.loads(results.dumps([result]))[0]
    assert again.summary()["delivered"] == result.delivered


async def test_tsung_idle_sessions_over_starttls(tmp_path: Path) -> None:
    scenario = Scenario(name="idle", kind="idle", sessions=4, warmup=0, duration=3)
    async with running_server(tmp_path / "server") as handle:
        for n in range(scenario.session_count):
            await handle.add_user(f"load{n}@localhost", PASSWORD)
        target = LoadTarget(host="127.0.0.1", port=handle.starttls_port, domain="localhost", tls="starttls",
                            mechanism="SCRAM-SHA-1", password=PASSWORD)  # fmt: skip
        result = await asyncio.to_thread(run_with_tsung, target, scenario, tmp_path / "tsung")
        online_during = max(s.sessions for s in result.series)
    assert result.sessions_ok == 4 and online_during == 4
    assert "PLAIN instead of SCRAM-SHA-1" in result.note
    assert result.errors == 0
