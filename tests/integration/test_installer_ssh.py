"""`tigase-py install` over real SSH: a throwaway sshd on loopback refuses a wrong key, and a user
without sudo rights gets no further than the privilege escalation.

The sshd runs from a temporary config on 127.0.0.1 and a free port with its own host key; the login
user is created for the test (no password, no sudo rights) and removed afterwards. Both runs stop
before the first task that would change the host, so nothing is installed on this machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import free_port, run_cli, wait_for_port

SSHD = Path("/usr/sbin/sshd")
IS_CI = os.environ.get("CI", "").lower() == "true"
# Paths an install would create on the host: none may appear.
INSTALL_PATHS = (Path("/etc/tigase-py"), Path("/opt/tigase-py"), Path("/var/lib/tigase-py"))


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "the throwaway sshd and its login user need root"
    if not SSHD.exists() or shutil.which("ssh-keygen") is None:
        return "openssh-server is not installed"
    if shutil.which("sudo") is None:
        return "sudo is not installed"
    return None


def _skip_or_fail() -> None:
    reason = _missing()
    if reason is not None:
        if IS_CI:
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)


pytestmark = [pytest.mark.timeout(300)]


@dataclass(frozen=True)
class SshHost:
    port: int
    user: str
    home: Path
    key: Path  # authorised
    wrong_key: Path  # a valid key the host does not know
    known_hosts: Path


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, timeout=30)


def _kill_user_processes(user: str) -> None:
    found = subprocess.run(["pgrep", "-u", user], capture_output=True, text=True, check=False).stdout.split()
    for pid in found:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)


@pytest.fixture
def ssh_host() -> Iterator[SshHost]:
    _skip_or_fail()
    base = Path(tempfile.mkdtemp(prefix="tigase-py-ssh-", dir="/var/tmp"))
    base.chmod(0o755)  # the login user must reach its home below
    user = f"tgpy{uuid.uuid4().hex[:8]}"
    home = base / "home"
    subprocess.run(["useradd", "-M", "-d", str(home), "-s", "/bin/sh", "-p", "*", user], check=True, timeout=30)
    process: subprocess.Popen[bytes] | None = None
    try:
        home.mkdir()
        shutil.chown(home, user, user)
        _keygen(base / "host_key")
        _keygen(base / "login_key")
        _keygen(base / "wrong_key")
        authorized = base / "authorized"
        authorized.mkdir()
        shutil.copy(base / "login_key.pub", authorized / user)
        port = free_port()
        config = base / "sshd_config"
        config.write_text(
            f"Port {port}\nListenAddress 127.0.0.1\nHostKey {base / 'host_key'}\nPidFile {base / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {authorized}/%u\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n"
            f"KbdInteractiveAuthentication no\nAllowUsers {user}\n"
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
        process = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stderr=subprocess.DEVNULL)
        wait_for_port("127.0.0.1", port)
        yield SshHost(port, user, home, base / "login_key", base / "wrong_key", base / "known_hosts")
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        _kill_user_processes(user)
        subprocess.run(["userdel", user], check=False, timeout=30)
        shutil.rmtree(base, ignore_errors=True)


def _install(tmp_path: Path, ssh: SshHost, key: Path) -> subprocess.CompletedProcess[str]:
    wheels = tmp_path / "wheels"
    wheels.mkdir(exist_ok=True)
    (wheels / "tigase_py-0.0.0-py3-none-any.whl").write_bytes(b"")  # never copied: both runs stop before
    return run_cli(
        "install", f"{ssh.user}@127.0.0.1:{ssh.port}", "--ssh-key", key, "--wheelhouse", wheels,
        "--log-dir", tmp_path / "logs", "--json",
        env={
            "HOME": str(tmp_path),  # ansible's own files (~/.ansible) go here
            # ssh, sftp and scp all take these: the host key goes to the test's file, not this machine's
            # known_hosts, and no master connection outlives the run.
            "ANSIBLE_SSH_ARGS": f"-o ControlMaster=no -o UserKnownHostsFile={ssh.known_hosts}",
        },
        timeout=180,
    )  # fmt: skip


def _my_known_hosts() -> bytes | None:
    """The controller user's own known_hosts (ssh reads the home from passwd, not $HOME)."""
    try:
        return (Path(pwd.getpwuid(os.getuid()).pw_dir) / ".ssh/known_hosts").read_bytes()
    except OSError:
        return None


def _host_files(ssh: SshHost) -> list[str]:
    """Files in the login user's home, beside ansible's own (emptied) temporary directory."""
    return sorted(
        str(path.relative_to(ssh.home)) for path in ssh.home.rglob("*") if path.is_file() or path.is_symlink()
    )


def test_wrong_ssh_key_is_one_line_and_exit_3(tmp_path, ssh_host):
    before, known = [path.exists() for path in INSTALL_PATHS], _my_known_hosts()
    done = _install(tmp_path, ssh_host, ssh_host.wrong_key)
    assert done.returncode == 3, done.stderr[-3000:]
    (host,) = json.loads(done.stdout)["hosts"]
    assert host["status"] == "unreachable"
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    target = f"{ssh_host.user}@127.0.0.1:{ssh_host.port}"
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith(f"error: {target}: SSH refused the login: the key was not accepted")
    assert "Permission denied (publickey)" in errors[0], errors
    assert [path.exists() for path in INSTALL_PATHS] == before
    assert _host_files(ssh_host) == []
    assert _my_known_hosts() == known and ssh_host.known_hosts.is_file()  # accept-new learnt the key


def test_user_without_sudo_is_one_line_and_exit_1(tmp_path, ssh_host):
    before, known = [path.exists() for path in INSTALL_PATHS], _my_known_hosts()
    users_before = {entry.pw_name for entry in pwd.getpwall()}
    started = time.monotonic()
    done = _install(tmp_path, ssh_host, ssh_host.key)
    assert done.returncode == 1, done.stderr[-3000:]
    (host,) = json.loads(done.stdout)["hosts"]
    assert host["status"] == "failed" and host["changed"] == 0
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    target = f"{ssh_host.user}@127.0.0.1:{ssh_host.port}"
    assert len(errors) == 1, done.stderr
    assert errors[0].startswith(f"error: {target}: privilege escalation failed: the SSH user cannot become root")
    assert time.monotonic() - started < 120  # no prompt waited for
    assert [path.exists() for path in INSTALL_PATHS] == before
    assert {entry.pw_name for entry in pwd.getpwall()} == users_before
    assert _host_files(ssh_host) == []
    assert _my_known_hosts() == known and ssh_host.known_hosts.is_file()


def test_changed_host_key_is_refused_with_exit_3(tmp_path, ssh_host):
    # known_hosts holds another key for this host: the login must stop before the key is used.
    other = " ".join(ssh_host.wrong_key.with_suffix(".pub").read_text().split()[:2])
    ssh_host.known_hosts.write_text(f"[127.0.0.1]:{ssh_host.port} {other}\n")
    done = _install(tmp_path, ssh_host, ssh_host.key)
    assert done.returncode == 3, done.stderr[-3000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    target = f"{ssh_host.user}@127.0.0.1:{ssh_host.port}"
    assert errors == [
        f"error: {target}: SSH refused the host: its host key is not the one in known_hosts "
        "(check the host, then remove the old key with `ssh-keygen -R`)"
    ], done.stderr
    assert _host_files(ssh_host) == []
