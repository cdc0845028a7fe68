"""The metrics registry: series, histograms, computed gauges and the flat views."""

from __future__ import annotations

import pytest

from tigase_py.server.core.metrics import MetricsRegistry


def test_counters_gauges_and_labels_show_in_the_snapshot() -> None:
    registry = MetricsRegistry()
    stanzas = registry.counter("c2s.stanzas_in", "c2s/Stanzas received", "from clients", ("kind",))
    stanzas.labels("message").value += 3
    stanzas.labels("iq").inc()
    registry.gauge("sm.sessions", "sess-man/Open user sessions", "bound", read=lambda: 7)
    snapshot = registry.snapshot()
    assert snapshot["c2s/Stanzas received[kind=message]"] == 3
    assert snapshot["c2s/Stanzas received[kind=iq]"] == 1
    assert snapshot["sess-man/Open user sessions"] == 7


def test_histograms_give_count_sum_and_bucket_quantiles() -> None:
    registry = MetricsRegistry()
    latency = registry.histogram("storage.op_seconds", "storage/Operation latency", "per call", ("op",))
    series = latency.dist("get")
    for value in (0.0001, 0.002, 0.002, 0.2):
        series.observe(value)
    samples = {s.id: s.value for s in registry.collect()}
    assert samples["storage.op_seconds_count"] == 4
    assert samples["storage.op_seconds_sum"] == pytest.approx(0.2041)
    assert samples["storage.op_seconds_p50"] == 0.0025
    assert samples["storage.op_seconds_p99"] == 0.25


def test_a_failing_computed_gauge_does_not_break_collection() -> None:
    registry = MetricsRegistry()
    registry.gauge("x.broken", "x/Broken", "raises", read=lambda: 1 / 0)
    registry.counter("x.fine", "x/Fine", "ok").plain.inc()
    assert registry.snapshot() == {"x/Fine": 1}


def test_ids_and_display_names_are_checked_and_redeclaring_differently_fails() -> None:
    registry = MetricsRegistry()
    with pytest.raises(ValueError):
        registry.counter("nodot", "x/Name", "bad id")
    registry.counter("a.b", "a/B", "first", ("x",))
    assert registry.counter("a.b", "a/B", "same again", ("x",)) is registry.metrics["a.b"]
    with pytest.raises(ValueError):
        registry.gauge("a.b", "a/B", "other kind")


def test_a_computed_metric_with_labels_gives_one_series_per_key() -> None:
    registry = MetricsRegistry()
    vhosts = {"a.b": 2.0, "a-b": 3.0}
    registry.gauge("vhost.users", "vhost-man/Registered users", "per vhost", ("vhost",),
                   read=lambda: {(name,): value for name, value in vhosts.items()})  # fmt: skip
    registry.counter("process.cpu", "process/CPU", "kept by the kernel", read=lambda: 1.5)
    assert registry.snapshot() == {
        "vhost-man/Registered users[vhost=a.b]": 2.0,
        "vhost-man/Registered users[vhost=a-b]": 3.0,
        "process/CPU": 1.5,
    }
    vhosts["c.d"] = 1.0
    assert registry.snapshot()["vhost-man/Registered users[vhost=c.d]"] == 1.0


def test_prometheus_view_types_families_and_survives_a_failing_metric() -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from tigase_py.server.observe.prometheus import render

    registry = MetricsRegistry()
    registry.gauge("x.broken", "x/Broken", "raises", ("vhost",), read=lambda: 1 / 0)
    registry.counter("x.done", "x/Done", "finished", read=lambda: 4)
    registry.gauge("vhost.users", "vhost-man/Registered users", "per vhost", ("vhost",),
                   read=lambda: {("a.b",): 2, ("a-b",): 3})  # fmt: skip
    registry.counter("process.cpu_user_seconds", "process/CPU user time", "exposed by the standard collector")
    body, _ = render(registry)
    families = {family.name: family for family in text_string_to_metric_families(body.decode())}
    assert "tigasepy_x_broken" not in families
    assert families["tigasepy_x_done"].type == "counter"
    assert {s.labels["vhost"]: s.value for s in families["tigasepy_vhost_users"].samples} == {"a.b": 2, "a-b": 3}
    assert "tigasepy_process_cpu_user_seconds" not in families and families["process_cpu_seconds"].type == "counter"
