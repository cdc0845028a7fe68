"""At start the server raises its open-files soft limit and names the numbers when it is too low."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import logging, resource, sys
from tigase_py.server.app import raise_open_files_limit
logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="%(message)s")
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
raised, _ = raise_open_files_limit(int(sys.argv[1]))
print("soft", raised, "hard", hard, "now", resource.getrlimit(resource.RLIMIT_NOFILE)[0])
"""


def run_probe(max_connections: int) -> tuple[str, int, int]:
    command = [sys.executable, "-c", PROBE, str(max_connections)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    last = done.stdout.strip().splitlines()[-1].split()
    return done.stdout, int(last[1]), int(last[3])


def test_soft_limit_is_raised_to_the_hard_limit_without_warning_when_enough() -> None:
    output, raised, hard = run_probe(100)
    assert raised == hard and raised > 256
    assert "below" not in output


def test_a_hard_limit_below_max_connections_is_named_in_a_warning() -> None:
    output, raised, hard = run_probe(10_000_000)
    assert raised == hard
    assert f"open-files limit {hard} is below the {10_000_000 + 64}" in output
