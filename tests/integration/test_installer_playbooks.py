"""The installer's playbooks themselves: ansible-lint, the facts-driven OS branch, an unreachable host."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run_cli

PROJECT = Path(__file__).resolve().parents[2] / "installer" / "project"

# (os_family, distribution, major version) -> (branch, interpreter) or the start of the failure line
CASES = {
    "debian12": (("Debian", "Debian", "12"), ("debian", "/usr/bin/python3")),
    "ubuntu2204": (("Debian", "Ubuntu", "22"), ("debian", "/usr/bin/python3.11")),
    "ubuntu2404": (("Debian", "Ubuntu", "24"), ("debian", "/usr/bin/python3")),
    "rocky9": (("RedHat", "Rocky", "9"), ("redhat", "/usr/bin/python3.11")),
    "alma8": (("RedHat", "AlmaLinux", "8"), ("redhat", "/usr/bin/python3.11")),
    "centos_stream9": (("RedHat", "CentOS", "9"), ("redhat", "/usr/bin/python3.11")),
    "rhel8": (("RedHat", "RedHat", "8"), ("redhat", "/usr/bin/python3.11")),
    "debian11": (("Debian", "Debian", "11"), "unsupported OS Debian 11"),
    "centos7": (("RedHat", "CentOS", "7"), "unsupported OS CentOS 7"),
    "suse15": (("Suse", "openSUSE Leap", "15"), "unsupported OS openSUSE Leap 15"),
    "freebsd14": (("FreeBSD", "FreeBSD", "14"), "unsupported OS FreeBSD 14"),
}

SELECT_PLAYBOOK = """\
- name: Select the OS branch
  hosts: all
  gather_facts: false
  tasks:
    - name: Run the platform role's selection
      ansible.builtin.include_role:
        name: platform
        tasks_from: select.yml
    - name: Show the choice
      ansible.builtin.debug:
        msg: "{{ platform_branch }} {{ platform_python }}"
"""


@pytest.mark.timeout(300)
def test_ansible_lint_is_clean():
    lint = shutil.which("ansible-lint", path=str(Path(sys.executable).parent)) or shutil.which("ansible-lint")
    assert lint is not None, "ansible-lint is a test dependency"
    done = subprocess.run([lint, "--offline", "--nocolor", "."], cwd=PROJECT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 failure(s), 0 warning(s)" in done.stderr + done.stdout


def test_every_playbook_passes_syntax_check():
    playbook = Path(sys.executable).parent / "ansible-playbook"
    for name in ("site.yml", "uninstall.yml"):
        done = subprocess.run(
            [str(playbook), "--syntax-check", "-i", "localhost,", name], cwd=PROJECT, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr


@pytest.mark.timeout(300)
def test_os_branch_is_chosen_from_facts(tmp_path):
    """The real select.yml, fed the facts of each OS through its inputs (one local host per OS)."""
    import ansible_runner

    hosts = {
        name: {
            "ansible_connection": "local",
            "ansible_python_interpreter": sys.executable,
            "platform_os_family": family,
            "platform_distribution": distribution,
            "platform_major_version": version,
        }
        for name, ((family, distribution, version), _) in CASES.items()
    }
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "select.yml").write_text(SELECT_PLAYBOOK)
    outcome: dict[str, str] = {}

    def record(event):
        data = event.get("event_data") or {}
        if event.get("event") in ("runner_on_ok", "runner_on_failed") and data.get("task") in (
            "Show the choice",
            "Stop on an unsupported OS",
        ):
            outcome[data["host"]] = data["res"]["msg"]
        return True

    ansible_runner.run(
        private_data_dir=str(tmp_path),
        playbook="select.yml",
        inventory={"all": {"hosts": hosts}},
        envvars={"ANSIBLE_ROLES_PATH": str(PROJECT / "roles"), "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"},
        event_handler=record,
        fact_cache_type="memory",
        quiet=True,
    )
    for name, (_, expected) in CASES.items():
        if isinstance(expected, tuple):
            assert outcome[name] == " ".join(expected), name
        else:
            assert outcome[name].startswith(expected), (name, outcome[name])
            assert "\n" not in outcome[name]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def test_unreachable_host_is_one_line_and_exit_3(tmp_path):
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "tigase_py-0.0.0-py3-none-any.whl").write_bytes(b"")  # never copied: the host is not reached
    done = run_cli(
        "install", "127.0.0.1", "--ssh-port", str(closed_port()), "--wheelhouse", wheels,
        "--log-dir", tmp_path / "logs", "--json",
        env={"HOME": str(tmp_path)}, timeout=120,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    report = json.loads(done.stdout)
    (host,) = report["hosts"]
    assert host["unreachable"] and host["status"] == "unreachable"
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: 127.0.0.1: unreachable:"), done.stderr
    assert "Connection refused" in errors[0]


def test_no_target_is_a_usage_error(tmp_path):
    done = run_cli("install", "--log-dir", tmp_path)
    assert done.returncode == 2
    assert "HOST..., --inventory FILE or --local" in done.stderr
