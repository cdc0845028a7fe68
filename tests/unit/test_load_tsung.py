"""Tsung adapter: the XML it writes is valid against Tsung's DTD, and Tsung's logs import into a LoadResult."""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import pytest

from tigase_py.compat_tests.load import tsung_xml
from tigase_py.compat_tests.load.results import LoadResult
from tigase_py.compat_tests.load.scenario import LoadTarget, Scenario
from tigase_py.compat_tests.load.tsung import import_run
from tigase_py.compat_tests.load.tsung_log import parse_latencies, parse_log

TARGET = LoadTarget(host="127.0.0.1", port=5222, domain="example.org", tls="starttls", mechanism="SCRAM-SHA-1",
                    account_pattern="load{n}", password="pw&<x>")  # fmt: skip
needs_dtd = pytest.mark.skipif(
    shutil.which("xmllint") is None or not Path(tsung_xml.DTD).exists(),
    reason="xmllint and tsung's DTD are installed by scripts/test (libxml2-utils, tsung)",
)


def xmllint_errors(path: Path) -> str:
    done = subprocess.run(["xmllint", "--noout", "--valid", str(path)], capture_output=True, text=True, timeout=30)
    return done.stderr if done.returncode else ""


@needs_dtd
@pytest.mark.parametrize("kind", ["login-storm", "idle", "one-to-one", "presence-storm", "muc-fanout"])
@pytest.mark.parametrize("tls", ["plain", "starttls", "direct"])
def test_scenario_xml_is_valid_against_tsung_dtd(tmp_path: Path, kind: str, tls: str) -> None:
    target = LoadTarget(host="127.0.0.1", port=5222, domain="example.org", tls=tls)  # type: ignore[arg-type]
    scenario = Scenario(name=f"{kind} & co", kind=kind, sessions=7, pairs=3, rooms=2, ramp_up=2.5, rate=4)  # type: ignore[arg-type]
    path = tmp_path / "tsung.xml"
    path.write_text(tsung_xml.scenario_xml(target, scenario, tmp_path / "accounts.csv"))
    assert xmllint_errors(path) == ""


@needs_dtd
def test_xmllint_rejects_a_broken_scenario(tmp_path: Path) -> None:
    """The validation above can fail: an attribute outside the DTD is reported."""
    scenario = Scenario(name="o", kind="one-to-one", pairs=2)
    text = tsung_xml.scenario_xml(TARGET, scenario, tmp_path / "a.csv").replace('ack="no_ack"', 'ack="sometimes"', 1)
    path = tmp_path / "bad.xml"
    path.write_text(text)
    assert "sometimes" in xmllint_errors(path)


def test_one_to_one_paces_each_sender_and_bounds_the_run() -> None:
    scenario = Scenario(name="o", kind="one-to-one", pairs=5, rate=100, rate_mode="total", warmup=1, duration=4)
    text = tsung_xml.scenario_xml(TARGET, scenario, Path("/tmp/a.csv"))
    # 100 msgs/s over 10 senders: 10 each per second, for 5 s (warm-up + measured).
    assert tsung_xml.per_sender_rate(scenario) == 10
    assert '<for from="1" to="50" var="i">' in text
    assert '<thinktime value="0.1" random="false"/>' in text
    assert '<users maxnumber="10" arrivalrate="10" unit="second"/>' in text
    # Arrivals are random: the phase outlasts the ramp so that all 10 start (maxnumber ends it).
    assert '<arrivalphase phase="1" duration="8" unit="second">' in text
    assert 'stamped="true"' in text and 'destination="online"' in text
    assert '<jabber type="starttls" ack="bidi_ack"/>' in text
    assert 'value="example.org"' in text
    capped = Scenario(name="o", kind="one-to-one", pairs=5, rate=100, max_count=20)
    assert tsung_xml.messages_per_sender(capped) == 2


def test_accounts_file_lists_the_targets_accounts_in_order() -> None:
    scenario = Scenario(name="i", kind="idle", sessions=3)
    assert tsung_xml.users_csv(TARGET, scenario) == "load0;pw&<x>\nload1;pw&<x>\nload2;pw&<x>\n"


def test_what_tsung_cannot_do_is_named() -> None:
    assert "pubsub" in (tsung_xml.unsupported_reason(Scenario(name="p", kind="pubsub-fanout")) or "")
    window = Scenario(name="w", kind="one-to-one", rate_mode="window")
    assert "closed-loop" in (tsung_xml.unsupported_reason(window) or "")
    assert tsung_xml.unsupported_reason(Scenario(name="w", kind="idle", rate_mode="window")) is None
    assert "PLAIN instead of SCRAM-SHA-1" in tsung_xml.mechanism_note(TARGET)
    with pytest.raises(ValueError, match="pubsub"):
        tsung_xml.scenario_xml(TARGET, Scenario(name="p", kind="pubsub-fanout"), Path("a.csv"))


def block(at: int, users: int, lines: str) -> str:
    return f"# stats: dump at {at}\nstats: users {users} {users}\n{lines}"


LOG = "".join(
    [
        block(100, 0, "stats: users_count 0 0\n"),
        block(101, 4, 'stats: {cpu,"tsung_controller@vm"} 1 38.1 0 38.1 38.1 0 0\n'
                      "stats: tr_login 4 15.6 9.8 32.4 8.0 0 0\nstats: connected 4 4\n"),
        block(102, 4, "stats: tr_login 0 0 0 32.4 8.0 15.6 4\nstats: connected 0 4\n"
                      "stats: tr_chat 40 0.1 0 0.2 0.05 0 0\nstats: xmpp_msg_latency 38 1.2 0.9 8.3 0.3 0 0\n"),
        block(103, 4, "stats: tr_chat 40 0.1 0 0.2 0.05 0.1 40\nstats: xmpp_msg_latency 40 1.1 0.9 8.3 0.3 1.2 38\n"
                      "stats: error_connect_econnrefused 2 2\nstats: connected 0 4\n"),
        block(104, 0, "stats: connected -4 0\nstats: xmpp_msg_latency 2 1.0 0 8.3 0.3 1.1 78\n"),
        "EndMonitor:{1795,613850,358422}\n",
    ]
)  # fmt: skip


def test_parse_log_reads_samples_counters_and_drops_node_figures() -> None:
    dumps = parse_log(LOG)
    assert [d.at for d in dumps] == [100, 101, 102, 103, 104]
    assert dumps[1].count("tr_login") == 4 and dumps[1].users == 4
    assert dumps[3].totals["tr_chat"] == 80 and dumps[3].errors() == 2
    assert not any(name.startswith("{") for d in dumps for name in d.counts)
    assert len(parse_log(LOG.replace("EndMonitor", "Still running"))) == 4  # last block may be partial


def test_parse_latencies_reads_single_and_list_samples() -> None:
    text = "[{sample,xmpp_msg_latency,1.299},\n {sample,xmpp_msg_latency,0.5}]\n{sample,request,[0.8,1.6]}\n"
    text += "{sample,xmpp_msg_latency,[2.0,3.5]}\n"
    assert parse_latencies(text) == [1.299, 0.5, 2.0, 3.5]


def test_import_run_builds_series_window_latency_and_memory() -> None:
    scenario = Scenario(name="o", kind="one-to-one", pairs=2, warmup=0, duration=2)
    base = LoadResult(engine="tsung", scenario=scenario.to_dict(), target=TARGET.to_dict(), started="now")
    rss = [(101.0, 10_000), (102.0, 10_400), (103.0, 10_400), (104.0, 10_100)]
    result = import_run(base, scenario, parse_log(LOG), [1.0, 2.0, 3.0, 4.0], baseline_rss=10_000, rss_by_time=rss)
    assert [s.logins for s in result.series] == [0, 4, 0, 0, 0]
    assert [s.sessions for s in result.series] == [0, 4, 4, 4, 0]
    assert result.sessions_ok == 4 and result.sessions_failed == 0 and result.login_s == 1.0
    # Logins end in interval 1; the measured window is intervals 2 and 3.
    assert (result.sent, result.delivered, result.measured_s) == (80, 78, 2.0)
    assert result.errors == 2
    assert result.latency.count == 4 and result.latency.p50_ms == 2.0 and result.latency.max_ms == 4.0
    assert [(m.sessions, m.rss_kib) for m in result.memory] == [(4, 10_000), (4, 10_400), (4, 10_400)]
    assert result.memory[-1].kib_per_session == 100.0
    assert math.isclose(result.summary()["delivered_per_s"], 39.0)
