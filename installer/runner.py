"""Run a playbook of ``project/`` through ansible-runner and report each task result as it happens."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tigase_py.installer.events import Tally

PROJECT = Path(__file__).resolve().parent / "project"
Progress = Callable[[str, str, str], None]  # host, task, outcome


@dataclass(frozen=True, slots=True)
class RunOutcome:
    tally: Tally
    status: str  # ansible-runner's: successful | failed | timeout | canceled
    rc: int
    log: Path  # the full ansible output


def default_log_root() -> Path:
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "tigase-py" / "installs"


def prepare(log_root: Path, name: str) -> Path:
    """A fresh private data dir holding a copy of the playbooks; it is kept as the run's record."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    directory = log_root / f"{name}-{stamp}-{os.getpid()}"
    log_root.mkdir(parents=True, exist_ok=True)
    directory.mkdir(mode=0o700, exist_ok=False)
    shutil.copytree(PROJECT, directory / "project", ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return directory


def run_playbook(
    playbook: str,
    inventory: Mapping[str, Any] | str,
    extravars: Mapping[str, Any],
    *,
    log_root: Path,
    check: bool = False,
    progress: Progress | None = None,
) -> RunOutcome:
    """Run ``project/<playbook>``; ``progress`` hears every task result."""
    import ansible_runner

    private = prepare(log_root, Path(playbook).stem)
    tally = Tally()

    def on_event(event: Mapping[str, Any]) -> bool:
        seen = tally.feed(event)
        if seen is not None and progress is not None:
            progress(*seen)
        return True  # keep the event in the artifacts

    bin_dir = str(Path(sys.executable).parent)
    envvars = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        # ansible-runner turns host key checking off unless told; keep it on, so the inventory's
        # StrictHostKeyChecking=accept-new holds: a new host's key is learnt, a changed key refused.
        "ANSIBLE_HOST_KEY_CHECKING": "True",
    }
    runner = ansible_runner.run(
        private_data_dir=str(private),
        playbook=playbook,
        inventory=inventory,  # type: ignore[arg-type]  # a dict is written out as YAML
        extravars=dict(extravars),
        envvars=envvars,
        cmdline="--check --diff" if check else None,
        event_handler=on_event,
        quiet=True,
        ident="run",
        fact_cache_type="memory",  # the jsonfile cache cannot name hosts that are paths (chroots)
        settings={"suppress_ansible_output": True},
    )
    # The extra vars hold passwords; the log and the events stay as the run's record.
    (private / "env" / "extravars").unlink(missing_ok=True)
    log = private / "artifacts" / "run" / "stdout"
    return RunOutcome(tally=tally, status=str(runner.status), rc=int(runner.rc or 0), log=log)
