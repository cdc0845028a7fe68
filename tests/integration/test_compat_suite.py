"""The compat suite judged against Debian's Prosody (fairness) and against our own server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CLI = "from tigase_py.cli.main import run; run()"
pytestmark = pytest.mark.skipif(shutil.which("prosody") is None, reason="prosody is not installed")


def compat(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-c", CLI, "compat", *args], capture_output=True, text=True, timeout=150, cwd=cwd, env=env
    )


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    directory = tmp_path_factory.mktemp("compat")
    runs = {}
    for server in ("prosody", "tigase-py"):
        done = compat("run", "--server", server, "--report-dir", str(directory), "--json", cwd=directory)
        runs[server] = (done, json.loads(done.stdout))
    return {"dir": directory, "runs": runs}


def test_prosody_has_no_failures(reports):
    done, doc = reports["runs"]["prosody"]
    failed = [c["id"] for c in doc["cases"] if c["outcome"] == "failed"]
    assert failed == [], done.stderr
    assert done.returncode == 0
    assert doc["summary"]["total"] >= 30
    assert {c["outcome"] for c in doc["cases"]} <= {"passed", "not-supported", "expected-deviation", "skipped"}


def test_our_server_fails_only_known_bugs(reports):
    done, doc = reports["runs"]["tigase-py"]
    failed = [c["id"] for c in doc["cases"] if c["outcome"] == "failed"]
    assert failed == [], done.stderr
    assert done.returncode == 0


def test_reports_written(reports):
    directory = reports["dir"]
    for name in ("prosody", "tigase-py"):
        assert (directory / f"{name}.junit.xml").read_text().startswith("<?xml")
        assert "<svg" in (directory / f"{name}.html").read_text()
        assert json.loads((directory / f"{name}.json").read_text())["format"] == "tigase-py-compat/1"


def test_compare(reports):
    directory = reports["dir"]
    first, second = str(directory / "prosody.json"), str(directory / "tigase-py.json")
    done = compat("compare", first, second, "--json", cwd=directory)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["targets"] == ["prosody", "tigase-py"]
    assert len(result["cases"]) >= 30
    assert result["cases"][0]["differs"] or result["differences"] == 0


def test_unreachable_target_exits_3(tmp_path):
    done = compat("run", "--host", "127.0.0.1", "--port", "1", "--domain", "example.org", cwd=tmp_path)
    assert done.returncode == 3
    assert len(done.stderr.strip().splitlines()) == 1
