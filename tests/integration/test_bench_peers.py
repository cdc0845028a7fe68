"""bench/peers.py end to end with tiny sizes: fresh tigase-py and Prosody processes, one table of ratios."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

from bench import peers, peers_ejabberd
from tigase_py.compat_tests.load.engine import run_scenario
from tigase_py.compat_tests.load.scenario import LoadTarget, Scenario

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(300),
    pytest.mark.skipif(shutil.which("prosody") is None, reason="prosody is installed by scripts/test"),
]


def test_peers_measures_both_servers_and_prints_ratios(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "peers.json"
    argv = ["--pairs", "2", "--sessions", "12", "--logins", "12", "--hold", "2", "--duration", "2", "--warmup", "1",
            "--fixed-rate", "100", "--workers", "1", "--no-ejabberd", "--json", str(out)]  # fmt: skip
    assert peers.main(argv) == 0
    report = json.loads(out.read_text())
    rows = {row["key"]: row for row in report["rows"]}
    assert set(rows) == {"throughput", "idle_kib", "logins", "p99"}
    for key, row in rows.items():
        for server in ("tigase-py", "prosody"):
            assert isinstance(row[server], float) and math.isfinite(row[server]), (key, server, row)
            assert key == "idle_kib" or row[server] > 0, (key, server, row)
        assert row["ratio"] == pytest.approx(row["tigase-py"] / row["prosody"])
        assert row["met"] in (True, False)
    for key, by_server in report["results"].items():
        for server, results in by_server.items():
            result = results[0]
            assert result["sessions_failed"] == 0, (key, server, result["error_messages"])
            assert result["target"]["name"] == server and result["target"]["mechanism"] == "SCRAM-SHA-1"
    # At 100 msgs/s in total both servers keep up: the fixed-load row compares latency at equal load.
    for server in ("tigase-py", "prosody"):
        fixed = report["results"]["p99"][server][0]
        assert fixed["delivered"] > 0.8 * 100 * fixed["measured_s"]
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].split(" | ")[0].strip() == "metric"
    assert "KiB per idle authenticated session" in printed


@pytest.mark.skipif(not Path("/usr/sbin/ejabberdctl").exists(), reason="ejabberd is installed by scripts/test")
def test_peers_ejabberd_registers_accounts_that_log_in_with_scram_sha1() -> None:
    with peers_ejabberd.running(["load0", "load1", "load2"], "peers-secret") as (port, pid):
        assert b"beam" in Path(f"/proc/{pid}/cmdline").read_bytes()
        target = LoadTarget(host="127.0.0.1", port=port, domain="localhost", mechanism="SCRAM-SHA-1",
                            password="peers-secret", server_pid=pid)  # fmt: skip
        result = run_scenario(target, Scenario(name="l", kind="login-storm", sessions=3), workers=1)
    assert (result.sessions_ok, result.sessions_failed) == (3, 0)
    assert not Path(f"/proc/{pid}").exists()
