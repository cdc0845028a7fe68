"""``tigase-py load run`` end to end: every scenario against our server (a subprocess, so its memory
can be read from /proc), one-to-one and MUC fan-out against a throwaway Prosody; JSON and HTML outputs."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.helpers import free_port, require_tool
from tigase_py.cli import main
from tigase_py.cli.commands import load as load_command
from tigase_py.compat_tests.load import results
from tigase_py.compat_tests.load.scenario import LoadTarget
from tigase_py.compat_tests.peers.common import self_signed, stop, wait_for_port
from tigase_py.compat_tests.peers.tigase_py_config import every_transport, render_config
from tigase_py.server.config.load import load_config

runner = CliRunner()
SHORT = ["--duration", "1.5", "--warmup", "0.5", "--workers", "1"]


def write_config(directory: Path, port: int, direct: int, plain: int, http: int) -> Path:
    cert, key = self_signed("localhost", directory / "certs")
    path = directory / "tigase.toml"
    path.write_text(
        render_config(
            vhosts=["localhost"],
            pidfile=directory / "tigase.pid",
            storage_url=f"sqlite+aiosqlite:///{directory / 'tigase.db'}",
            certificate=cert,
            key=key,
            listeners=every_transport(port, direct, plain),
            auth={"allow_plain_without_tls": True},
            http_port=http,
        )
    )
    return path


@dataclass
class Ours:
    config: Path
    port: int  # STARTTLS
    direct: int
    plain: int
    http: int

    def __iter__(self) -> Iterator[Any]:
        return iter((self.config, self.port))


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ours]:
    """Our server as a subprocess (its pidfile lets the run read its memory) with three c2s listeners."""
    directory = tmp_path_factory.mktemp("load-ours")
    found = Ours(directory / "tigase.toml", free_port(), free_port(), free_port(), free_port())
    config = write_config(directory, found.port, found.direct, found.plain, found.http)
    port = found.port
    created = runner.invoke(main.app, ["--config", str(config), "db", "init"])
    assert created.exit_code == 0, created.output
    log = directory / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tigase_py.server", "--config", str(config)],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_for_port(port, process, log, 30)
        yield found
    finally:
        stop(process)


def load_run(config: Path | None, *args: str, tmp_path: Path) -> list[results.LoadResult]:
    output, html = tmp_path / "run.json", tmp_path / "run.html"
    head = ["--config", str(config)] if config else []
    done = runner.invoke(main.app, [*head, "load", "run", *args, "-o", str(output), "--html", str(html)])
    assert done.exit_code == 0, done.output
    found = results.load(output)
    text = html.read_text()
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    for result in found:
        assert result.name in text
    return found


def ours_args(port: int) -> list[str]:
    return ["--host", "127.0.0.1", "--port", str(port), "--domain", "localhost", "--create-accounts"]


def test_login_storm_logs_every_session_in(ours, tmp_path):
    config, port = ours
    (result,) = load_run(config, *ours_args(port), "-s", "login-storm", "--sessions", "8", *SHORT, tmp_path=tmp_path)
    assert result.status == "ok" and result.sessions_ok == 8 and result.sessions_failed == 0
    assert sum(s.logins for s in result.series) == 8
    assert result.latency.count == 8 and 0 < result.latency.p50_ms <= result.latency.max_ms  # login durations
    assert result.summary()["logins_per_s"] > 0


def test_idle_reports_server_memory_per_session(ours, tmp_path):
    config, port = ours
    (result,) = load_run(config, *ours_args(port), "-s", "idle", "--sessions", "10", *SHORT, tmp_path=tmp_path)
    assert max(s.sessions for s in result.series) == 10
    assert result.baseline_rss_kib and result.memory
    kib = result.summary()["kib_per_session"]
    assert math.isfinite(kib) and 0 < kib < 10_000
    assert "memory per session" in (tmp_path / "run.html").read_text()


def test_one_to_one_delivers_with_latency_percentiles(ours, tmp_path):
    config, port = ours
    args = ["-s", "one-to-one", "--pairs", "3", "--rate", "20", "--message-size", "200", "--workers", "2"]
    (result,) = load_run(config, *ours_args(port), *args, "--duration", "1.5", "--warmup", "0.5", tmp_path=tmp_path)
    # 6 senders x 20/s x 1.5 s, give or take the pacing step at the window's edges.
    assert 150 <= result.sent <= 200
    assert result.delivered >= 0.9 * result.sent
    assert 0 < result.latency.p50_ms <= result.latency.p95_ms <= result.latency.p99_ms <= result.latency.max_ms
    assert sum(result.latency.histogram) == result.latency.count
    assert result.errors == 0
    compared = runner.invoke(main.app, ["load", "compare", str(tmp_path / "run.json"), str(tmp_path / "run.json"),
                                        "--json"])  # fmt: skip
    rows = {r["metric"]: r for r in json.loads(compared.stdout)["rows"]}
    assert rows["delivered_per_s"]["ratio"] == 1.0


def test_one_to_one_window_mode_keeps_messages_in_flight(ours, tmp_path):
    config, port = ours
    args = ["-s", "one-to-one", "--pairs", "2", "--rate-mode", "window", "--window", "4", "--max-count", "400"]
    (result,) = load_run(config, *ours_args(port), *args, "--duration", "8", "--warmup", "0.2", tmp_path=tmp_path)
    assert result.delivered >= 400  # stopped by the count bound ...
    assert result.measured_s < 8  # ... before the time bound


def test_presence_storm_delivers_broadcasts_to_contacts(ours, tmp_path):
    config, port = ours
    args = ["-s", "presence-storm", "--sessions", "4", "--contacts", "2", "--rate", "4"]
    (result,) = load_run(config, *ours_args(port), *args, *SHORT, tmp_path=tmp_path)
    # Each broadcast reaches the sender's subscribers (and its own session).
    assert result.sent > 0 and result.delivered >= result.sent
    assert result.latency.count > 0


def test_a_subscription_storm_is_confirmed_in_full(ours, tmp_path):
    """150 sessions ask 4 contacts each at once: 600 subscriptions, about 2,400 roster writes on SQLite."""
    config, port = ours
    args = ["-s", "presence-storm", "--sessions", "150", "--contacts", "4", "--rate", "1"]
    (result,) = load_run(config, *ours_args(port), *args, *SHORT, tmp_path=tmp_path)
    assert result.status == "ok" and result.sessions_ok == 150, result.error_messages
    assert result.note == "", result.note  # "only N of 600 roster subscriptions were confirmed" otherwise
    assert result.errors == 0


@pytest.mark.parametrize("kind", ["muc-fanout", "pubsub-fanout"])
def test_fanout_without_the_service_is_reported_not_supported(ours, tmp_path, kind):
    config, port = ours
    (result,) = load_run(config, *ours_args(port), "-s", kind, "--sessions", "3", *SHORT, tmp_path=tmp_path)
    assert result.status == "not-supported" and "disco" in result.note
    assert "not-supported" in (tmp_path / "run.html").read_text()


@pytest.mark.parametrize(
    ("listener", "tls", "mechanism"), [("direct", "direct", "PLAIN"), ("plain", "plain", "SCRAM-SHA-1")]
)
def test_transports_and_mechanisms(ours, tmp_path, listener, tls, mechanism):
    args = ["--host", "127.0.0.1", "--port", str(getattr(ours, listener)), "--domain", "localhost",
            "--create-accounts", "--tls", tls, "--mechanism", mechanism]  # fmt: skip
    (result,) = load_run(ours.config, *args, "-s", "login-storm", "--sessions", "3", *SHORT, tmp_path=tmp_path)
    assert result.sessions_ok == 3 and result.target["tls"] == tls and result.target["mechanism"] == mechanism


def test_idle_memory_from_the_metrics_endpoint(ours, tmp_path):
    target = LoadTarget("127.0.0.1", ours.port, "localhost", account_pattern="metrics{n}")
    assert load_command.create_in_storage(load_config(ours.config), target, 4) in (0, 4)
    args = ["--host", "127.0.0.1", "--port", str(ours.port), "--domain", "localhost", "--account-pattern",
            "metrics{n}", "--metrics-url", f"http://127.0.0.1:{ours.http}/metrics"]  # fmt: skip
    (result,) = load_run(None, *args, "-s", "idle", "--sessions", "4", *SHORT, tmp_path=tmp_path)
    assert result.memory and {m.source for m in result.memory} == {"metrics"}
    assert result.baseline_rss_kib and result.baseline_rss_kib > 1000


def test_mix_file_runs_each_phase(ours, tmp_path):
    mix = tmp_path / "mix.toml"
    mix.write_text(
        'name = "evening"\n[defaults]\nduration = 1\nwarmup = 0.3\n'
        '[[phase]]\nname = "logins"\nkind = "login-storm"\nsessions = 4\n'
        '[[phase]]\nname = "chat"\nkind = "one-to-one"\npairs = 2\nrate = 5\nmessage_size = 64\n'
    )
    found = load_run(ours.config, *ours_args(ours.port), "--mix", str(mix), "--workers", "1", tmp_path=tmp_path)
    assert [r.name for r in found] == ["logins", "chat"]
    assert found[1].scenario["message_size"] == 64 and found[1].delivered > 0
    assert "Load test: evening" in (tmp_path / "run.html").read_text()


@pytest.fixture(scope="module")
def prosody() -> Iterator[object]:
    require_tool("prosody", "prosody")
    from tigase_py.compat_tests.peers import prosody as peer

    with peer.running(users=()) as target:
        yield target


def prosody_args(target) -> list[str]:
    return ["--host", target.host, "--port", str(target.port), "--domain", target.domain, "--register",
            "--mechanism", "SCRAM-SHA-1"]  # fmt: skip


def test_prosody_one_to_one(prosody, tmp_path):
    args = ["-s", "one-to-one", "--pairs", "2", "--rate", "10"]
    (result,) = load_run(None, *prosody_args(prosody), *args, *SHORT, tmp_path=tmp_path)
    assert result.status == "ok" and result.sessions_ok == 4
    assert result.sent > 0 and result.delivered >= 0.9 * result.sent and result.latency.count > 0


def test_prosody_muc_fanout_copies_each_message_to_every_occupant(prosody, tmp_path):
    args = ["-s", "muc-fanout", "--sessions", "6", "--rooms", "2", "--rate", "10"]
    (result,) = load_run(None, *prosody_args(prosody), *args, *SHORT, tmp_path=tmp_path)
    assert result.status == "ok"
    # Two rooms of three occupants: each groupchat message comes back to all three.
    assert result.sent > 0 and result.delivered >= 2.7 * result.sent


def test_ejabberd_pubsub_fanout_delivers_each_item_to_every_subscriber(tmp_path):
    require_tool("ejabberdctl", "ejabberd")
    args = ["--server", "ejabberd", "-s", "pubsub-fanout", "--sessions", "6", "--rate", "10"]
    (result,) = load_run(None, *args, *SHORT, tmp_path=tmp_path)
    assert result.status == "ok" and result.sessions_ok == 6, result.note
    # One node: the first session publishes, the other five are subscribed and each gets the item.
    assert result.sent > 0 and result.delivered >= 0.9 * 5 * result.sent
    assert result.latency.count > 0


async def test_run_scenario_async_against_an_in_process_server(tmp_path):
    from tests.xmpp_harness import running_server
    from tigase_py.compat_tests.load import Scenario, run_scenario_async

    async with running_server(tmp_path) as server:
        for n in range(4):
            await server.add_user(f"load{n}@localhost", "load-secret")
        target = LoadTarget("127.0.0.1", server.starttls_port, "localhost")
        scenario = Scenario("chat", "one-to-one", pairs=2, rate=10, duration=1.0, warmup=0.3)
        seconds: list[results.SecondSample] = []
        result = await run_scenario_async(target, scenario, progress=seconds.append)
    assert result.sessions_ok == 4 and result.delivered > 0
    assert [s.t for s in seconds] == list(range(len(seconds))) and seconds[-1].t >= 1
