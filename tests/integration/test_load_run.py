"""``tigase-py load run`` end to end: every scenario against our server (a subprocess, so its memory
can be read from /proc), one-to-one and MUC fan-out against a throwaway Prosody; JSON and HTML outputs."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import free_port
from tigase_py.cli import main
from tigase_py.compat_tests.load import results
from tigase_py.compat_tests.peers.common import self_signed, stop, wait_for_port

runner = CliRunner()
SHORT = ["--duration", "1.5", "--warmup", "0.5", "--workers", "1"]


def write_config(directory: Path, port: int) -> Path:
    cert, key = self_signed("localhost", directory / "certs")
    path = directory / "tigase.toml"
    path.write_text(f"""
[server]
vhosts = ["localhost"]
pidfile = "{directory / "tigase.pid"}"
log_level = "warning"

[storage]
url = "sqlite+aiosqlite:///{directory / "tigase.db"}"

[tls]
certificate = "{cert}"
key = "{key}"

[[listeners]]
type = "c2s"
address = "127.0.0.1"
port = {port}
tls = "starttls"

[http]
port = {free_port()}
""")
    return path


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """Our server as a subprocess: (config path, c2s port); its pidfile lets the run read its memory."""
    directory = tmp_path_factory.mktemp("load-ours")
    port = free_port()
    config = write_config(directory, port)
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
        yield config, port
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


@pytest.mark.parametrize("kind", ["muc-fanout", "pubsub-fanout"])
def test_fanout_without_the_service_is_reported_not_supported(ours, tmp_path, kind):
    config, port = ours
    (result,) = load_run(config, *ours_args(port), "-s", kind, "--sessions", "3", *SHORT, tmp_path=tmp_path)
    assert result.status == "not-supported" and "disco" in result.note
    assert "not-supported" in (tmp_path / "run.html").read_text()


@pytest.fixture(scope="module")
def prosody() -> Iterator[object]:
    if shutil.which("prosody") is None:
        pytest.skip("prosody is not installed")
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
