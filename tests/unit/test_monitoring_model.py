"""monitoring.model: summary from display-keyed metrics, glob selection; status: the verdict fold."""

from __future__ import annotations

import pytest

from tigase_py.monitoring import model, status
from tigase_py.monitoring.model import ProbeFailure, ProbeResult

METRICS: dict[str, model.MetricValue] = {
    "c2s/Stanzas received[kind=message]": 30.0,
    "c2s/Stanzas received[kind=iq]": 5.0,
    "c2s/All authentication failures": 2.0,
    "sess-man/Open user sessions": 3.0,
    "process/Open files": 40.0,
    "process/Open files limit": 1024.0,
    "process/Resident memory": 2048.0 * 1024,
    "process/Uptime": 10.0,
    "storage/Database up": 1.0,
    "storage/Operation latency p99[store=users,op=get]": 0.004,
    "storage/Operation latency p99[store=roster,op=get]": 0.010,
    "vhost-man/Registered users[vhost=a.example]": 4.0,
    "vhost-man/Registered users[vhost=b.example]": 1.0,
}


def result(**fields: object) -> ProbeResult:
    return model.summarize(ProbeResult("t", "http", ok=True, latency_ms=1.0, metrics=dict(METRICS), **fields))  # type: ignore[arg-type]


def test_summarize_reads_display_keys() -> None:
    r = result()
    assert r.sessions == 3 and r.registered_users == 5
    assert r.messages_total == 30.0 and r.messages_per_second == 3.0
    assert r.auth_failures == 2.0 and r.storage_up is True
    assert r.storage_latency_ms == pytest.approx(10.0)
    assert (r.open_files, r.open_files_limit, r.resident_kib) == (40, 1024, 2048.0)


def test_summarize_keeps_fields_already_set() -> None:
    assert result(sessions=9).sessions == 9


def test_auth_failures_fall_back_to_per_mechanism_sum() -> None:
    r = model.summarize(
        ProbeResult(
            "t",
            "snmp",
            True,
            1.0,
            {"c2s/Authentication failures[mechanism=PLAIN]": 2, "c2s/Authentication failures[mechanism=X]": 1},
        )
    )
    assert r.auth_failures == 3


def test_select_is_a_case_insensitive_glob() -> None:
    assert set(model.select(METRICS, "PROCESS/open*")) == {"process/Open files", "process/Open files limit"}
    assert model.select(METRICS, None) == METRICS


def test_healthy_verdict_exit_0() -> None:
    verdict = status.fold([result()])
    assert (verdict.state, verdict.exit_code, verdict.problems) == ("healthy", 0, [])


def test_storage_down_is_unhealthy() -> None:
    verdict = status.fold([result(storage_up=False)])
    assert verdict.exit_code == 1 and verdict.problems == ["http: storage is down"]


def test_open_files_above_90_percent_is_unhealthy() -> None:
    verdict = status.fold([result(open_files=950)])
    assert verdict.state == "unhealthy" and "950 open files" in verdict.problems[0]


def test_heap_above_90_percent_is_unhealthy() -> None:
    r = ProbeResult("t", "jmx", True, 1.0, heap_used_bytes=95.0, heap_max_bytes=100.0)
    assert status.fold([r]).exit_code == 1


def failed(kind: model.FailureKind, probe: str = "http") -> ProbeResult:
    return model.failed("t", probe, 1.0, ProbeFailure(kind, f"{probe}: {kind}"))


def test_all_unreachable_exit_3_but_auth_failure_exit_1() -> None:
    assert status.fold([failed("unreachable"), failed("unreachable", "snmp")]).exit_code == 3
    assert status.fold([failed("auth")]).exit_code == 1
    mixed = status.fold([result(), failed("unreachable", "snmp")])
    assert mixed.state == "unhealthy" and mixed.problems == ["snmp: unreachable"]


def test_json_document_names_state_and_probes() -> None:
    document = status.fold([failed("auth")]).to_json()
    assert document["state"] == "unhealthy" and document["exit_code"] == 1
    assert document["probes"][0]["error"] == "http: auth"  # type: ignore[index]


def test_with_rates_uses_the_delta_between_samples() -> None:
    before = result(uptime_seconds=10.0, messages_total=30.0)
    after = result(uptime_seconds=12.0, messages_total=40.0)
    (rated,) = status.with_rates([after], [before])
    assert rated.messages_per_second == 5.0


async def test_run_turns_failures_and_hangs_into_results() -> None:
    import asyncio

    async def refuses() -> ProbeResult:
        raise ProbeFailure("auth", "http: 401 unauthorized (check --api-key)")

    async def hangs() -> ProbeResult:
        await asyncio.sleep(60)
        raise AssertionError

    async def answers() -> ProbeResult:
        return result()

    probes: dict[str, tuple[str, status.Probe]] = {"http": ("u", refuses), "snmp": ("s", hangs), "jmx": ("j", answers)}
    results = await status.run(probes, timeout=0.05, grace=0.0)
    assert [r.failure for r in results] == ["auth", "unreachable", None]
    assert results[0].error == "http: 401 unauthorized (check --api-key)"
    assert results[1].error == "snmp: no answer from s within 0.05 s"
