"""``tigase-py status --via jmx`` against a real JVM with remote JMX on loopback.

The JVM runs a one-class program through Java's single-file source launcher (``java Sleep.java``),
which needs only the runtime (Debian's default-jre-headless ships the jdk.compiler module), not javac.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import free_port, run_cli

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="needs a Java runtime (default-jre-headless)")

START_TIMEOUT = 30.0
SLEEP_JAVA = """
public class Sleep {
    public static void main(String[] args) throws Exception {
        System.out.println("ready");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
"""


def jmx_url(port: int) -> str:
    return f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{port}/jmxrmi"


def _ready(port: int) -> bool:
    import socket

    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


@contextlib.contextmanager
def jvm(directory: Path, *, password: str | None = None) -> Iterator[int]:
    """A JVM exporting JMX on a free loopback port (with one read-only user when ``password``)."""
    (directory / "Sleep.java").write_text(SLEEP_JAVA)
    port = free_port()
    options = [
        f"-Dcom.sun.management.jmxremote.port={port}",
        f"-Dcom.sun.management.jmxremote.rmi.port={port}",
        "-Dcom.sun.management.jmxremote.ssl=false",
        "-Djava.rmi.server.hostname=127.0.0.1",
        "-Dcom.sun.management.jmxremote.host=127.0.0.1",
        "-Xmx64m",
    ]
    if password is None:
        options.append("-Dcom.sun.management.jmxremote.authenticate=false")
    else:
        secrets, access = directory / "jmx.password", directory / "jmx.access"
        secrets.write_text(f"monitor {password}\n")
        access.write_text("monitor readonly\n")
        secrets.chmod(0o600)  # the JVM refuses a password file others can read
        options += [
            "-Dcom.sun.management.jmxremote.authenticate=true",
            f"-Dcom.sun.management.jmxremote.password.file={secrets}",
            f"-Dcom.sun.management.jmxremote.access.file={access}",
        ]
    log = directory / "jvm.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["java", *options, "Sleep.java"],
            cwd=directory,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not (b"ready" in log.read_bytes() and _ready(port)):
            if process.poll() is not None:
                pytest.fail(f"the JVM exited ({process.returncode}): {log.read_text(errors='replace')}")
            if time.monotonic() > deadline:
                pytest.fail(f"the JVM did not export JMX within {START_TIMEOUT:.0f} s")
            time.sleep(0.2)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.fixture(scope="module")
def open_jvm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with jvm(tmp_path_factory.mktemp("jvm")) as port:
        yield port


def test_status_via_jmx_reads_heap_threads_uptime(open_jvm: int) -> None:
    done = run_cli("status", "--via", "jmx", "--jmx-url", jmx_url(open_jvm), "--json", "--timeout", "20")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["state"] == "healthy"
    (probe,) = document["probes"]
    assert probe["probe"] == "jmx" and probe["ok"]
    assert probe["heap_used_bytes"] > 0 and probe["heap_max_bytes"] > 0
    assert probe["threads"] > 0 and probe["uptime_seconds"] > 0
    assert probe["version"].startswith("JVM ")
    assert "java.lang:type=Threading/ThreadCount" in probe["metrics"]


def test_status_via_jmx_shows_a_table(open_jvm: int) -> None:
    done = run_cli("status", "--via", "jmx", "--jmx-url", jmx_url(open_jvm), "--timeout", "20")
    assert done.returncode == 0, done.stderr
    for label in ("HEALTHY", "heap", "threads", "uptime", "MiB"):
        assert label in done.stdout
    assert done.stderr == ""


def test_status_via_jmx_host_and_port(open_jvm: int) -> None:
    done = run_cli("status", "--via", "jmx", "--host", "127.0.0.1", "--jmx-port", str(open_jvm), "--json")
    assert done.returncode == 0, done.stderr


def test_status_via_jmx_unreachable_port_is_one_line_exit_3() -> None:
    done = run_cli("status", "--via", "jmx", "--jmx-url", jmx_url(free_port()), "--timeout", "20")
    assert done.returncode == 3
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: jmx: cannot connect") and "connection refused" in lines[0]


def test_status_via_jmx_not_a_url_is_one_line() -> None:
    done = run_cli("status", "--via", "jmx", "--jmx-url", "localhost:9999")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "error: jmx: 'localhost:9999' is neither a JMX service URL (service:jmx:rmi:///jndi/...) "
        "nor a Jolokia URL (http://host:port/jolokia)"
    ]


def test_status_via_jmx_wrong_password_is_one_line_exit_1(tmp_path: Path) -> None:
    with jvm(tmp_path, password="right-secret") as port:
        good = run_cli(
            "status", "--via", "jmx", "--jmx-url", jmx_url(port), "--jmx-user", "monitor", "--json", "--timeout", "20",
            env={"TIGASE_PY_JMX_PASSWORD": "right-secret"},
        )  # fmt: skip
        bad = run_cli(
            "status", "--via", "jmx", "--jmx-url", jmx_url(port), "--jmx-user", "monitor", "--timeout", "20",
            env={"TIGASE_PY_JMX_PASSWORD": "wrong"},
        )  # fmt: skip
    assert good.returncode == 0, good.stderr
    assert json.loads(good.stdout)["probes"][0]["threads"] > 0
    assert bad.returncode == 1
    lines = bad.stderr.strip().splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith("error: jmx: authentication failed")
        and "check --jmx-user/--jmx-password" in lines[0]
    )
    assert "wrong" not in bad.stderr
