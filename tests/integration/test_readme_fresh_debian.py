"""The README's two commands, copied literally, on a fresh Debian 12 (debootstrap minbase: no python3).

Opt-in (TIGASE_PY_FRESH_DEBIAN=1): it downloads Debian packages and the Python dependencies from the
network and takes several minutes, so CI does not run it. As root, in a chroot that shares this
machine's network: ``./scripts/run`` must apt-get python3 and python3-venv, make ``.venv``, init and start
a server that a slixmpp client on this machine logs in to; then ``./scripts/test tests/unit -x -q``
(the test command with a short pytest selection) must exit 0. The host's extra CA certificates
(``/usr/local/share/ca-certificates``) and ``PIP_CERT`` are passed in for networks that intercept TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import slixmpp

from tests.integration.chroot_root import CACHE_DIR, MIRROR, kill_all_in

REPO = Path(__file__).resolve().parents[2]
TARBALL = CACHE_DIR / "bookworm-minbase-bare-v1.tar.gz"  # nothing added: no python3, no ca-certificates
ENV = ["env", "-i", "HOME=/root", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=dumb"]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(3600),
    pytest.mark.skipif(os.environ.get("TIGASE_PY_FRESH_DEBIAN") != "1", reason="opt-in: TIGASE_PY_FRESH_DEBIAN=1"),
    pytest.mark.skipif(os.geteuid() != 0, reason="chroot and debootstrap need root"),
]


def bare_root() -> Path:
    if not TARBALL.exists():
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix="tigase-py-bare-", dir="/var/tmp"))
        try:
            subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(build / "root"), MIRROR],
                           check=True, capture_output=True, timeout=1800)  # fmt: skip
            partial = TARBALL.with_suffix(".part")
            subprocess.run(["tar", "--numeric-owner", "-C", str(build / "root"), "-czf", str(partial), "."], check=True)
            partial.rename(TARBALL)
        finally:
            shutil.rmtree(build, ignore_errors=True)
    return TARBALL


@contextlib.contextmanager
def fresh_debian() -> Iterator[Path]:
    """A bare bookworm root with /proc, /dev and resolv.conf, the checkout's tracked files in /src."""
    base = Path(tempfile.mkdtemp(prefix="tigase-py-fresh-", dir="/var/tmp"))
    root = base / "root"
    root.mkdir()
    subprocess.run(["tar", "--numeric-owner", "-C", str(root), "-xzf", str(bare_root())], check=True)
    mounts = [root / "proc", root / "dev"]
    subprocess.run(["mount", "-t", "proc", "proc", str(mounts[0])], check=True)
    subprocess.run(["mount", "--rbind", "/dev", str(mounts[1])], check=True)
    try:
        shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
        # debootstrap writes no /etc/hosts; the Debian installer does (mariadb-install-db needs localhost).
        (root / "etc/hosts").write_text(f"127.0.0.1\tlocalhost\n127.0.1.1\t{os.uname().nodename}\n::1\tlocalhost\n")
        extra_cas = root / "usr/local/share/ca-certificates"
        extra_cas.mkdir(parents=True, exist_ok=True)
        for certificate in Path("/usr/local/share/ca-certificates").glob("*.crt"):
            shutil.copy(certificate, extra_cas)
        files = subprocess.run(["git", "-C", str(REPO), "ls-files", "-z"], capture_output=True, check=True)
        for name in filter(None, files.stdout.decode().split("\0")):
            (root / "src" / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / "src" / name)
        yield root
    finally:
        kill_all_in(root)
        for mount in reversed(mounts):
            subprocess.run(["umount", "-R", "-l", str(mount)], check=False)
        if not any(os.path.ismount(mount) for mount in mounts):
            shutil.rmtree(base, ignore_errors=True)


def command(root: Path, text: str) -> list[str]:
    cert = ["PIP_CERT=/etc/ssl/certs/ca-certificates.crt"] if os.environ.get("PIP_CERT") else []
    return ["chroot", str(root), *ENV, *cert, "/bin/bash", "-c", f"cd /src && {text}"]


def log_in(port: int) -> bool:
    async def attempt() -> bool:
        client = slixmpp.ClientXMPP("test@localhost/fresh-debian", "test")
        client.ssl_context.check_hostname = False
        client.ssl_context.verify_mode = ssl.CERT_NONE
        started = asyncio.get_running_loop().create_future()
        client.add_event_handler("session_start", lambda _: started.done() or started.set_result(True))
        client.add_event_handler("failed_auth", lambda _: started.done() or started.set_result(False))
        client.connect("127.0.0.1", port)
        try:
            return await asyncio.wait_for(started, 30)
        finally:
            client.disconnect()

    return asyncio.run(attempt())


def test_readme_commands_on_a_fresh_debian_12(tmp_path):
    with contextlib.closing(__import__("socket").socket()) as probe:
        if probe.connect_ex(("127.0.0.1", 5222)) == 0:
            pytest.skip("127.0.0.1:5222 is in use on this machine (the chroot shares its network)")
    with fresh_debian() as root:
        assert not (root / "usr/bin/python3").exists()
        log = tmp_path / "run.log"
        with log.open("wb") as out:
            server = subprocess.Popen(command(root, "./scripts/run"), stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 1500
            while "ready: listening on" not in log.read_text(errors="replace"):
                assert server.poll() is None, log.read_text(errors="replace")[-3000:]
                assert time.monotonic() < deadline, "no server after 25 minutes"
                time.sleep(1)
            assert log_in(5222)
        finally:
            kill_all_in(root)
            server.wait(timeout=60)
        tested = subprocess.run(command(root, "./scripts/test tests/unit -x -q"), capture_output=True, text=True,
                                timeout=2400, check=False)  # fmt: skip
        assert tested.returncode == 0, (tested.stdout + tested.stderr)[-4000:]
        assert " passed" in tested.stdout
