"""A module from another distribution: pip-install tests/data/hello_module into a fresh venv layered over
this one, enable ``hello`` in the config, start the server from that venv and send the module's IQ from
slixmpp. The same config is refused, in one line with exit 2, by an environment without the package.
The module's own store (table ``hello_greetings``, Alembic branch ``hello``) is migrated by ``db upgrade``
from that venv, filled by the IQ and emptied by ``tigase-py user delete`` run without the server.

Offline: the package is built with ``--no-build-isolation --no-index`` by the setuptools of this
environment, which needs the ``wheel`` package (in the ``test`` extra) or setuptools ≥ 70.1.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import site
import sqlite3
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import slixmpp
from slixmpp.xmlstream import ET

from tests.server_process import ServerProcess
from tests.xmpp_harness import TIMEOUT
from tigase_py.server.storage.engine import open_storage

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "hello_module"
NS_HELLO = "urn:example:hello"
EXTRA = '[modules]\nenabled = ["ping", "hello"]\n[modules.hello]\ngreeting = "Good morning"\n'
CLI = "from tigase_py.cli.main import run; run()"
STEP_TIMEOUT = 120


def can_build_wheels() -> bool:
    try:
        import wheel  # noqa: F401
    except ImportError:
        import setuptools

        major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
        return (major, minor) >= (70, 1)
    return True


def layered_venv(where: Path) -> tuple[Path, Path]:
    """A venv without pip that sees this environment's packages (editable tigase-py included) behind its own."""
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(where)
    python = where / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=STEP_TIMEOUT,
    ).stdout.strip()  # fmt: skip
    parents = [path for path in site.getsitepackages() if Path(path).is_dir()]
    # An "import" line of a .pth runs at start-up; addsitedir also runs the parent's .pth (editable installs).
    lines = "".join(f"import site; site.addsitedir({path!r})\n" for path in parents)
    (Path(purelib) / "zz_parent_environment.pth").write_text(lines, encoding="utf-8")
    return python, Path(purelib)


def run(python: Path | str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env_args = [str(python), *args]
    return subprocess.run(env_args, capture_output=True, text=True, cwd=cwd, timeout=STEP_TIMEOUT, check=False)


async def create_account(url: str) -> None:
    storage = await open_storage(url, create=True)
    try:
        await storage.users.create("alice", "localhost", "secret")
    finally:
        await storage.close()


def greetings_in(database: Path) -> list[tuple[str, str]]:
    """The rows of the module's table, read with sqlite3 directly."""
    with sqlite3.connect(database) as conn:
        return list(conn.execute("SELECT owner, greeting FROM hello_greetings ORDER BY owner"))


async def hello_from_slixmpp(port: int, times: int) -> list[tuple[str, str | None]]:
    """(greeting, previous greeting) of each of ``times`` hello IQs sent in one session."""
    client = slixmpp.ClientXMPP("alice@localhost", "secret")
    client.enable_starttls = False
    client.enable_direct_tls = False
    client.enable_plaintext = True
    client.plugin["feature_mechanisms"].unencrypted_scram = True  # the test listener has no TLS
    started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    client.add_event_handler("session_start", lambda _: started.done() or started.set_result(None))
    client.connect("127.0.0.1", port)
    try:
        await asyncio.wait_for(started, TIMEOUT)
        answers: list[tuple[str, str | None]] = []
        for _ in range(times):
            iq = client.make_iq(itype="get", ito="localhost")
            iq.set_payload(ET.fromstring(f"<hello xmlns='{NS_HELLO}'/>"))
            reply = await iq.send(timeout=TIMEOUT)
            greeting = reply.xml.find(f"{{{NS_HELLO}}}hello/{{{NS_HELLO}}}greeting")
            assert greeting is not None, ET.tostring(reply.xml)
            previous = reply.xml.find(f"{{{NS_HELLO}}}hello/{{{NS_HELLO}}}previous")
            answers.append((greeting.text or "", None if previous is None else previous.text))
        return answers
    finally:
        client.disconnect()


async def test_installed_distribution_module_is_loaded_by_name(tmp_path: Path) -> None:
    if not can_build_wheels():
        pytest.fail("building the example offline needs the `wheel` package (pip install -e .[test])")
    source = shutil.copytree(EXAMPLE, tmp_path / "hello_module")
    python, purelib = layered_venv(tmp_path / "venv")
    database = tmp_path / "xmpp" / "tigase.db"
    url = f"sqlite+aiosqlite:///{database}"
    server = ServerProcess.prepare(tmp_path / "xmpp", url, EXTRA)
    await create_account(url)

    # Without the distribution, the config names the missing module in one line and exits 2.
    missing = run(sys.executable, "-c", CLI, "--config", str(server.config), "config", "check", cwd=tmp_path)
    assert missing.returncode == 2, missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1, missing.stderr
    assert 'modules.enabled: item 1: unknown module "hello": not built in' in missing.stderr

    pip = ("-m", "pip", "install", "--no-build-isolation", "--no-index", "--no-deps", "--disable-pip-version-check")
    installed = run(python, *pip, str(source), cwd=tmp_path)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (purelib / "tigase_hello" / "migrations" / "h001_hello_greetings.py").is_file()  # package data built in

    where = run(python, "-c", "import tigase_py.server, tigase_hello; print(tigase_py.server.__file__)", cwd=tmp_path)
    assert where.stdout.strip() == sys.modules["tigase_py.server"].__file__, where.stderr
    checked = run(python, "-c", CLI, "--config", str(server.config), "config", "check", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    listed = run(python, "-c", CLI, "modules", "list", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    hello = next(item for item in json.loads(listed.stdout)["modules"] if item["name"] == "hello")
    assert hello["origin"] == "tigase-py-hello 1.0" and hello["source"] == "tigase_hello:module"
    assert hello["specs"] == [{"name": "urn:example:hello", "version": "1.0", "section": "", "status": "complete"}]

    # The installed module's store joins the schema: its branch is migrated and listed.
    upgraded = run(python, "-c", CLI, "db", "upgrade", "--url", url, cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "schema upgraded: p001 -> h001, p001" in upgraded.stderr, upgraded.stderr
    status = run(python, "-c", CLI, "db", "status", "--json", "--url", url, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    schema = json.loads(status.stdout)
    assert schema["branches"] == ["core", "hello", "pubsub"] and schema["current"] == "h001, p001", schema
    assert schema["upgrade_needed"] is False

    await server.start(str(python))
    try:
        greeting = "Good morning, alice@localhost"
        assert await hello_from_slixmpp(server.c2s_port, 2) == [(greeting, None), (greeting, greeting)]
    finally:
        await server.stop()
    assert "vhost_loaded vhost=localhost modules=2" in server.log.read_text(errors="replace")
    assert greetings_in(database) == [("alice@localhost", greeting)]

    # Without the server, from the venv that has the module: the account and its greeting go together.
    deleted = run(python, "-c", CLI, "--config", str(server.config), "user", "delete", "alice@localhost", cwd=tmp_path)
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr
    assert greetings_in(database) == []


async def test_entry_point_that_fails_to_import_is_one_config_error(tmp_path: Path) -> None:
    """A distribution whose module raises on import: ``config check`` names it and the error, exit 2;
    ``user delete`` (which asks every installed module's stores) warns in one line and still deletes."""
    python, purelib = layered_venv(tmp_path / "venv")
    (purelib / "tigase_broken.py").write_text("import no_such_dependency_here\n", encoding="utf-8")
    info = purelib / "tigase_py_broken-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tigase-py-broken\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text("[tigase_py.modules]\nbroken = tigase_broken:module\n", encoding="utf-8")
    url = f"sqlite+aiosqlite:///{tmp_path / 'xmpp' / 'tigase.db'}"
    server = ServerProcess.prepare(tmp_path / "xmpp", url, '[modules]\nenabled = ["broken"]\n')
    await create_account(url)

    checked = run(python, "-c", CLI, "--config", str(server.config), "config", "check", cwd=tmp_path)
    assert checked.returncode == 2, checked.stderr
    assert len(checked.stderr.strip().splitlines()) == 1, checked.stderr
    where = "entry point 'tigase_broken:module' of tigase-py-broken 0.1"
    assert f"module 'broken': {where} failed to import" in checked.stderr
    assert "No module named 'no_such_dependency_here'" in checked.stderr

    started = run(python, "-m", "tigase_py.server", "--config", str(server.config), cwd=tmp_path)
    assert started.returncode == 2 and "failed to import" in started.stderr

    listed = run(python, "-c", CLI, "modules", "list", "--json", cwd=tmp_path)
    assert listed.returncode == 1
    broken = next(item for item in json.loads(listed.stdout)["modules"] if item["name"] == "broken")
    assert broken["loadable"] is False and "no_such_dependency_here" in broken["error"]

    # Installed but not enabled: the config loads, and deletion reaches the built-in stores.
    plain = ServerProcess.prepare(tmp_path / "plain", url, '[modules]\nenabled = ["ping"]\n').config
    deleted = run(python, "-c", CLI, "--config", str(plain), "user", "delete", "alice@localhost", cwd=tmp_path)
    assert deleted.returncode == 0, deleted.stderr
    warnings = [line for line in deleted.stderr.splitlines() if "failed to import" in line]
    assert len(warnings) == 1 and warnings[0].endswith("its stores are left out"), deleted.stderr
    assert "Traceback" not in deleted.stderr
    exists = run(python, "-c", CLI, "--config", str(plain), "user", "list", "--json", cwd=tmp_path)
    assert exists.returncode == 0 and json.loads(exists.stdout)["users"] == [], exists.stdout + exists.stderr
