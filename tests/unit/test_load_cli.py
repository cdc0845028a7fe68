"""``tigase-py load``: usage errors and an unreachable target give one line and exit 2 / 3; compare and
report read results files."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tigase_py.cli import main
from tigase_py.compat_tests.load import results
from tigase_py.compat_tests.load.scenario import Scenario

runner = CliRunner()


def cli(*args: str):
    return runner.invoke(main.app, list(args))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def one_line_error(result, code: int) -> str:
    assert result.exit_code == code, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--scenario", "flood", "--domain", "localhost"], "--scenario"),
        (["--domain", "localhost", "--rate-mode", "bursty"], "rate_mode"),
        (["--domain", "localhost", "--pairs", "0"], "pairs"),
        (["--domain", "localhost", "--mechanism", "MD5"], "mechanism"),
        (["--domain", "localhost", "--tls", "ssl3"], "tls"),
        (["--domain", "localhost", "--account-pattern", "bot"], "account_pattern"),
        (["--pairs", "2"], "--domain"),
        (["--server", "openfire"], "--server"),
        (["--domain", "localhost", "--engine", "jmeter"], "--engine"),
    ],
)
def test_load_run_bad_argument_is_one_line_exit_2(args: list[str], words: str) -> None:
    assert words in one_line_error(cli("load", "run", *args), 2)


def test_load_run_bad_scenario_file_names_the_key(tmp_path: Path) -> None:
    mix = tmp_path / "mix.toml"
    mix.write_text('[[phase]]\nkind = "one-to-one"\n[[phase]]\nkind = "idle"\nduraton = 3\n')
    line = one_line_error(cli("load", "run", "--mix", str(mix), "--domain", "localhost"), 2)
    assert "phase[1].duraton" in line


def test_load_run_unparsable_scenario_file_is_exit_2(tmp_path: Path) -> None:
    mix = tmp_path / "mix.toml"
    mix.write_text("[[phase]\nkind = ")
    assert "mix.toml" in one_line_error(cli("load", "run", "--mix", str(mix), "--domain", "localhost"), 2)


def test_load_run_unreachable_target_is_exit_3() -> None:
    port = closed_port()
    line = one_line_error(
        cli("load", "run", "--host", "127.0.0.1", "--port", str(port), "--domain", "localhost", "--pairs", "1"), 3
    )
    assert f"127.0.0.1:{port}" in line


def test_load_run_tsung_engine_unreachable_target_is_exit_3(tmp_path: Path) -> None:
    port = closed_port()
    args = ["--engine", "tsung", "--tsung-dir", str(tmp_path), "--host", "127.0.0.1", "--port", str(port)]
    line = one_line_error(cli("load", "run", *args, "--domain", "localhost", "--pairs", "1"), 3)
    assert f"127.0.0.1:{port}" in line


def sample(name: str, delivered: int, p99: float) -> results.LoadResult:
    return results.LoadResult(
        engine="tigase-py", scenario=Scenario(name, "one-to-one").to_dict(), target={"name": "x"},
        started="2026-01-01T00:00:00Z", sessions_ok=10, delivered=delivered, measured_s=10.0,
        latency=results.Latency.from_samples([1.0] * 98 + [p99, p99]),
        series=[results.SecondSample(t, sessions=10, sent=5, delivered=5, p50_ms=1.0, p99_ms=p99) for t in range(3)],
    )  # fmt: skip


def test_load_compare_gives_ratios_and_winner(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    results.save(first, [sample("chat", 1000, 4.0)])
    results.save(second, [sample("chat", 2000, 8.0)])
    done = cli("load", "compare", str(first), str(second), "--json")
    assert done.exit_code == 0, done.output
    rows = {r["metric"]: r for r in json.loads(done.stdout)["rows"]}
    assert rows["delivered_per_s"]["ratio"] == 2.0 and rows["delivered_per_s"]["better"] == "second"
    assert rows["p99_ms"]["ratio"] == 2.0 and rows["p99_ms"]["better"] == "first"
    table = cli("load", "compare", str(first), str(second))
    assert table.exit_code == 0 and "delivered_per_s" in table.stdout


def test_load_compare_refuses_a_file_that_is_not_results(tmp_path: Path) -> None:
    other = tmp_path / "compat.json"
    other.write_text('{"format": "tigase-py-compat/1"}')
    assert "compat.json" in one_line_error(cli("load", "compare", str(other), str(other)), 2)


def test_load_report_writes_self_contained_html(tmp_path: Path) -> None:
    path, html = tmp_path / "a.json", tmp_path / "a.html"
    results.save(path, [sample("chat", 1000, 4.0)])
    done = cli("load", "report", str(path), "--html", str(html))
    assert done.exit_code == 0, done.output
    text = html.read_text()
    assert text.count("<svg") == 4  # throughput, sessions, latency over time, histogram
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "<script" not in text
