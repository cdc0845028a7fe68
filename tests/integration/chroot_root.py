"""A throwaway Debian 12 root for the installer tests, entered through ansible's chroot connection.

The root is built once with debootstrap and cached as a tarball (CACHE_DIR); every test unpacks a
fresh copy under /var/tmp, mounts a fresh /proc in it and removes it afterwards, killing whatever
still runs inside. The chroot shares this machine's network, so a server started inside it listens
on this machine's loopback and reaches services (MariaDB) on it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import run_cli

CACHE_DIR = Path(os.environ.get("TIGASE_PY_TEST_CACHE", "/var/cache/tigase-py-tests"))
ROOT_TARBALL = CACHE_DIR / "bookworm-minbase-v2.tar.gz"  # bump when DEBOOTSTRAP changes
DEBOOTSTRAP = [
    "debootstrap",
    "--variant=minbase",
    "--include=python3,python3-venv,python3-apt,ca-certificates",
    "bookworm",
]
MIRROR = os.environ.get("TIGASE_PY_DEBIAN_MIRROR", "http://deb.debian.org/debian")
VHOST = "example.test"
ADMIN = f"admin@{VHOST}"
PASSWORD = "install-secret-1"
PREFIX = "/opt/tigase-py"
PIDFILE = "var/lib/tigase-py/tigase-py.pid"
CHROOT_MARKS = [
    pytest.mark.slow,
    pytest.mark.timeout(1500),
    pytest.mark.skipif(os.geteuid() != 0, reason="chroot and debootstrap need root"),
    pytest.mark.skipif(
        not ROOT_TARBALL.exists() and shutil.which("debootstrap") is None, reason="debootstrap is not installed"
    ),
]


def cached_root() -> Path:
    """The tarball of a debootstrapped bookworm; built when missing (one builder at a time)."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if ROOT_TARBALL.exists():
            return ROOT_TARBALL
        build = Path(tempfile.mkdtemp(prefix="tigase-py-debootstrap-", dir="/var/tmp"))
        try:
            subprocess.run([*DEBOOTSTRAP, str(build / "root"), MIRROR], check=True, capture_output=True, timeout=1200)
            partial = ROOT_TARBALL.with_suffix(".part")
            subprocess.run(["tar", "--numeric-owner", "-C", str(build / "root"), "-czf", str(partial), "."], check=True)
            partial.rename(ROOT_TARBALL)
        finally:
            if not os.path.ismount(build / "root" / "proc"):
                shutil.rmtree(build, ignore_errors=True)
    return ROOT_TARBALL


def server_running(root: Path) -> bool:
    try:
        pid = int((root / PIDFILE).read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def processes_in(root: Path) -> list[int]:
    """The processes whose root directory is ``root`` (started inside the chroot)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if os.readlink(entry / "root") == str(root):
                found.append(int(entry.name))
    return found


def kill_all_in(root: Path, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL, every process still running inside ``root``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = processes_in(root)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while pids and time.monotonic() < deadline:
            pids = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
            time.sleep(0.1)
        if not pids:
            return


@contextlib.contextmanager
def fresh_root() -> Iterator[Path]:
    """A new root from the cached tarball with /proc mounted; everything in it is killed and removed after."""
    tarball = cached_root()
    base = Path(tempfile.mkdtemp(prefix="tigase-py-chroot-", dir="/var/tmp"))
    root = base / "root"
    root.mkdir()
    subprocess.run(["tar", "--numeric-owner", "-C", str(root), "-xzf", str(tarball)], check=True)
    proc = root / "proc"
    subprocess.run(["mount", "-t", "proc", "proc", str(proc)], check=True)
    mounts = [proc]
    try:
        yield root
    finally:
        kill_all_in(root)
        for mount in reversed(mounts + [root / "dev/pts"]):
            if os.path.ismount(mount) and subprocess.run(["umount", str(mount)], check=False).returncode != 0:
                subprocess.run(["umount", "-l", str(mount)], check=False)
        if not any(os.path.ismount(mount) for mount in (proc, root / "dev/pts")):  # never delete through a mount
            shutil.rmtree(base, ignore_errors=True)


def inventory(tmp_path: Path, root: Path) -> Path:
    path = tmp_path / "inventory.yml"
    host = {"ansible_connection": "community.general.chroot", "ansible_python_interpreter": "/usr/bin/python3"}
    host["tigase_become"] = False
    path.write_text(json.dumps({"all": {"hosts": {str(root): host}}}))  # JSON is YAML
    return path


def in_root(root: Path, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["chroot", str(root), *argv], capture_output=True, text=True, timeout=timeout, check=False)


def server_options(ports: dict[str, int]) -> list[str]:
    """The install options every run of a test repeats (a second run with them changes nothing)."""
    return [
        "--vhost", VHOST,
        "--admin", ADMIN,
        "--admin-password", PASSWORD,
        "--c2s-port", str(ports["c2s"]),
        "--direct-tls-port", str(ports["direct"]),
        "--http-port", str(ports["http"]),
        "--max-connections", "2000",
        "--json",
    ]  # fmt: skip


def install(tmp_path: Path, root: Path, ports: dict[str, int], *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli(
        "install", "--inventory", inventory(tmp_path, root), *server_options(ports),
        "--log-dir", tmp_path / "logs", *extra,
        env={"XDG_CACHE_HOME": str(tmp_path / "cache")},
        timeout=900,
    )  # fmt: skip


def mount_devpts(root: Path) -> None:
    """A private devpts in the root: ansible-runner, run inside by `install --local`, needs pseudo-terminals."""
    pts = str(root / "dev/pts")
    subprocess.run(["mount", "-t", "devpts", "-o", "newinstance,ptmxmode=0666", "devpts", pts], check=True)


def install_from_inside(root: Path, ports: dict[str, int], *extra: str) -> subprocess.CompletedProcess[str]:
    """`tigase-py install --local` run by the copy installed in the root, with a clean environment."""
    env = ["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8", "NO_COLOR=1"]
    command = [*env, f"{PREFIX}/venv/bin/tigase-py", "install", "--local", *server_options(ports)]
    return in_root(root, *command, "--log-dir", "/root/install-logs", *extra, timeout=900)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]
