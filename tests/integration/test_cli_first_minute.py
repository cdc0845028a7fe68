"""compat run and load run against a throwaway tigase-py: a wrong password stops at once in one line,
progress lines in a log, and ``load run --server tigase-py``."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from tigase_py.cli import main
from tigase_py.compat_tests.peers import tigase_py
from tigase_py.compat_tests.target import Target

runner = CliRunner()


@pytest.fixture(scope="module")
def ours() -> Iterator[Target]:
    with tigase_py.running() as target:
        yield target


def target_args(target: Target, password: str) -> list[str]:
    first = target.accounts[0]
    return ["--host", target.host, "--port", str(target.port), "--domain", target.domain,
            "--account", f"{first.jid}:{password}", "--account", f"{target.accounts[1].jid}:{password}"]  # fmt: skip


def test_compat_run_with_a_wrong_password_stops_at_the_first_login(ours):
    started = time.monotonic()
    done = runner.invoke(main.app, ["compat", "run", *target_args(ours, "wrong-password")])
    assert done.exit_code == 1, done.output
    assert time.monotonic() - started < 10
    lines = done.stderr.strip().splitlines()
    assert lines[-1] == (
        f"error: login as {ours.accounts[0].jid} refused: SASL failure: not-authorized "
        "(wrong password or no such account)"
    )
    assert "failed" not in done.stdout


def test_compat_run_in_a_log_prints_progress_lines(ours):
    password = ours.accounts[0].password
    done = runner.invoke(main.app, ["compat", "run", *target_args(ours, password), "--only", "XEP-0199"])
    assert done.exit_code == 0, done.output
    assert "collecting the cases" in done.stderr
    (count,) = [line for line in done.stderr.splitlines() if line.startswith("running ")]
    total = int(count.split()[1])
    assert total > 0
    assert f"{total}/{total} cases, 0 failed" in done.stderr


def test_load_run_accepts_a_throwaway_tigase_py():
    args = ["load", "run", "--server", "tigase-py", "-s", "login-storm", "--sessions", "3", "--duration", "1",
            "--warmup", "0", "--workers", "1", "--json"]  # fmt: skip
    done = runner.invoke(main.app, args)
    assert done.exit_code == 0, done.output
    assert '"sessions_ok": 3' in done.stdout
