"""The load suite's data: scenarios and mixes from TOML, results to JSON and back."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tigase_py.compat_tests.load import results
from tigase_py.compat_tests.load.scenario import (
    LoadTarget,
    Scenario,
    ScenarioError,
    load_mix,
    load_target,
)


def test_scenario_rejects_unknown_kind() -> None:
    with pytest.raises(ScenarioError, match="kind"):
        Scenario("x", "flood")  # type: ignore[arg-type]


def test_scenario_one_to_one_counts_two_sessions_per_pair() -> None:
    assert Scenario("x", "one-to-one", pairs=7).session_count == 14
    assert Scenario("x", "idle", sessions=9).session_count == 9


def test_mix_reads_phases_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "mix.toml"
    path.write_text(
        'name = "evening"\n[defaults]\nduration = 3\n'
        '[[phase]]\nkind = "login-storm"\nsessions = 20\n'
        '[[phase]]\nkind = "one-to-one"\npairs = 4\nrate = 5\nmessage_size = 100\n'
    )
    mix = load_mix(path)
    assert mix.name == "evening"
    assert [p.kind for p in mix.phases] == ["login-storm", "one-to-one"]
    assert mix.phases[0].duration == 3.0 and mix.phases[1].message_size == 100


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('[[phase]]\nkind = "idle"\nsesions = 3\n', "phase[0].sesions"),
        ('[[phase]]\nkind = "idle"\n[[phase]]\nkind = "idle"\npairs = 0\n', "phase[1].pairs"),
        ("[[phase]]\nsessions = 3\n", "phase[0].kind"),
        ('[[phase]]\nkind = "idle"\nrate = "fast"\n', "phase[0].rate"),
        ("phases = 1\n", "phases"),
    ],
)
def test_mix_error_names_the_bad_key(tmp_path: Path, body: str, key: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(ScenarioError) as caught:
        load_mix(path)
    assert key in str(caught.value)
    assert "\n" not in str(caught.value)


def test_load_target_extends_the_compat_target_file(tmp_path: Path) -> None:
    path = tmp_path / "target.toml"
    path.write_text(
        '[target]\nhost = "127.0.0.1"\nport = 5222\ndomain = "example.org"\ntls = "direct"\n'
        'mechanism = "PLAIN"\naccount_pattern = "bot{n}"\nserver_pid = 42\n'
    )
    target = load_target(path)
    assert target.tls == "direct" and target.mechanism == "PLAIN" and target.server_pid == 42
    assert target.jid(3) == "bot3@example.org"
    assert "password" not in target.to_dict()


def test_load_target_rejects_pattern_without_number() -> None:
    with pytest.raises(ScenarioError, match="account_pattern"):
        LoadTarget("h", 5222, "d", account_pattern="bot")


def test_result_round_trips_through_json() -> None:
    scenario = Scenario("chat", "one-to-one")
    result = results.LoadResult(
        engine="tigase-py", scenario=scenario.to_dict(), target={"host": "h"}, started="2026-01-01T00:00:00Z",
        series=[results.SecondSample(0, sessions=10, sent=5, delivered=4)], sent=5, delivered=4, measured_s=2.0,
        latency=results.Latency.from_samples([1.0, 2.0, 3.0, 4.0, 100.0]),
        memory=[results.MemorySample(1.0, 10, 5000, 12.5)],
    )  # fmt: skip
    back = results.loads(results.dumps([result]))[0]
    assert back == result
    assert back.summary()["delivered_per_s"] == 2.0
    assert back.latency.p50_ms == 3.0 and back.latency.p99_ms == 100.0
    assert sum(back.latency.histogram) == 5
    assert math.isnan(back.summary()["logins_per_s"])


def test_results_refuse_another_format() -> None:
    with pytest.raises(results.ResultsError, match="format"):
        results.loads('{"format": "tigase-py-compat/1", "results": []}')


def test_memory_is_read_from_prometheus_text() -> None:
    from tigase_py.compat_tests.load import memory

    text = "# HELP x\ntigasepy_c2s_connections 3\ntigasepy_process_rss_bytes 10485760\n"
    assert memory.parse_metrics_rss_kib(text) == 10240
    assert memory.parse_metrics_rss_kib('process_resident_memory_bytes{job="p"} 2.048e+06\n') == 2000
    assert memory.parse_metrics_rss_kib("up 1\n") is None
