"""Each doctor check on both sides: what makes it pass, and what makes it report a problem."""

from __future__ import annotations

import datetime
import os
import socket
from pathlib import Path

import pytest

from tests.helpers import free_port
from tigase_py.server.config.certs import write_self_signed
from tigase_py.server.doctor import database, ports, system, tls
from tigase_py.server.storage.engine import open_storage


def now() -> datetime.datetime:
    """The time of the check; read per test, since a certificate made now is not valid before now - 5 min."""
    return datetime.datetime.now(datetime.UTC)


def statuses(findings: list) -> list[str]:  # type: ignore[type-arg]
    return [finding.status for finding in findings]


# -- open files --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("limit", "status"),
    [(1000, "problem"), (1063, "problem"), (1064, "warning"), (2063, "warning"), (2064, "ok"), (None, "ok")],
)
def test_open_files_against_max_connections(limit: int | None, status: str) -> None:
    assert statuses(system.open_files(limit, 1000, "server (pid 1)")) == [status]


def test_open_files_reads_the_running_server_limit_from_proc() -> None:
    import resource

    limit, source = system.process_limit(os.getpid())
    assert limit == resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert source == f"server (pid {os.getpid()})"


def test_open_files_without_a_server_uses_the_hard_limit() -> None:
    import resource

    limit, source = system.process_limit(None)
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert limit == (None if hard == resource.RLIM_INFINITY else hard) and "hard limit" in source


# -- certificates ------------------------------------------------------------------------------------
@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    return write_self_signed("example.org", tmp_path / "certs")


def test_certificate_valid_and_covering_the_vhost(pair: tuple[Path, Path]) -> None:
    findings = tls.certificates(*pair, ("example.org",), now())
    assert statuses(findings) == ["ok", "ok"]
    assert "covered by subjectAltName example.org" in findings[1].detail


def test_certificate_missing_a_vhost_is_a_problem(pair: tuple[Path, Path]) -> None:
    findings = tls.certificates(*pair, ("example.org", "chat.example.net"), now())
    assert statuses(findings) == ["ok", "ok", "problem"]
    assert findings[2].subject == "chat.example.net" and "example.org" in findings[2].detail


def test_certificate_expiring_soon_warns_and_expired_is_a_problem(pair: tuple[Path, Path]) -> None:
    soon = now() + datetime.timedelta(days=3650 - 10)
    assert statuses(tls.certificates(*pair, ("example.org",), soon))[0] == "warning"
    later = now() + datetime.timedelta(days=3651)
    expired = tls.certificates(*pair, ("example.org",), later)
    assert expired[0].status == "problem" and "expired on" in expired[0].detail


def test_certificate_with_another_key_is_a_problem(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    _, other_key = write_self_signed("example.org", tmp_path / "other")
    findings = tls.certificates(pair[0], other_key, ("example.org",), now())
    assert "problem" in statuses(findings)
    assert any("does not belong" in f.detail for f in findings)


def test_unreadable_certificate_is_a_problem(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    broken = tmp_path / "broken.crt"
    broken.write_text("not a certificate")
    assert statuses(tls.certificates(broken, pair[1], ("example.org",), now())) == ["problem"]


def test_no_certificate_is_skipped() -> None:
    assert statuses(tls.certificates(None, None, ("example.org",), now())) == ["skipped"]


@pytest.mark.parametrize(
    ("pattern", "host", "expected"),
    [
        ("example.org", "EXAMPLE.org", True),
        ("*.example.org", "chat.example.org", True),
        ("*.example.org", "example.org", False),
        ("*.example.org", "a.b.example.org", False),
        ("example.org", "chat.example.org", False),
    ],
)
def test_subject_alt_name_matching(pattern: str, host: str, expected: bool) -> None:
    assert tls.covers(pattern, host) is expected


# -- database ----------------------------------------------------------------------------------------
async def test_database_at_head_is_ok(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tigase.db'}"
    await (await open_storage(url, create=True)).close()
    findings = await database.database(url)
    assert statuses(findings) == ["ok"] and "schema at head" in findings[0].detail


async def test_database_without_schema_is_a_problem(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    findings = await database.database(f"sqlite:///{path}")
    assert statuses(findings) == ["problem"] and "tigase-py db upgrade" in findings[0].detail


async def test_database_file_missing_is_a_warning(tmp_path: Path) -> None:
    assert statuses(await database.database(f"sqlite:///{tmp_path / 'none.db'}")) == ["warning"]


async def test_database_unreachable_is_a_problem() -> None:
    findings = await database.database(f"mysql://tigase:secret@127.0.0.1:{free_port()}/tigase")
    assert statuses(findings) == ["problem"]
    assert "cannot connect" in findings[0].detail and "secret" not in findings[0].subject


# -- ports -------------------------------------------------------------------------------------------
def test_free_port_is_ok() -> None:
    assert statuses(ports.port_findings([ports.Port("c2s", "127.0.0.1", free_port())], None)) == ["ok"]


def test_port_held_by_another_process_is_a_problem_and_by_the_server_is_ok() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = ports.Port("c2s", "127.0.0.1", listener.getsockname()[1])
        foreign = ports.port_findings([port], None)
        assert statuses(foreign) == ["problem"] and "another process" in foreign[0].detail
        ours = ports.port_findings([port], os.getpid())  # this process plays the server holding it
        assert statuses(ours) == ["ok"] and "running server" in ours[0].detail


def test_udp_port_held_is_traced_too() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
        held.bind(("127.0.0.1", 0))
        port = ports.Port("snmp", "127.0.0.1", held.getsockname()[1], udp=True)
        assert statuses(ports.port_findings([port], os.getpid())) == ["ok"]
        assert statuses(ports.port_findings([port], None)) == ["problem"]


# -- permissions -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "secret", "status"),
    [(0o600, True, "ok"), (0o640, True, "warning"), (0o644, True, "problem"), (0o644, False, "problem"),
     (0o640, False, "ok"), (0o666, False, "problem")],
)  # fmt: skip
def test_file_permissions(tmp_path: Path, mode: int, secret: bool, status: str) -> None:
    path = tmp_path / "file"
    path.write_text("x")
    path.chmod(mode)
    findings = system.permissions([path], []) if secret else system.permissions([], [path])
    assert statuses(findings) == [status]


@pytest.mark.parametrize(
    ("mode", "status"), [(0o700, "ok"), (0o755, "warning"), (0o777, "problem"), (0o1777, "warning")]
)
def test_directory_permissions(tmp_path: Path, mode: int, status: str) -> None:
    directory = tmp_path / "data"
    directory.mkdir()
    directory.chmod(mode)
    assert statuses(system.permissions([], [directory])) == [status]


def test_missing_files_are_not_reported(tmp_path: Path) -> None:
    assert system.permissions([tmp_path / "none"], system.sqlite_files(tmp_path / "none.db")[1:]) == []


# -- clock -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("synchronised", "status"), [(True, "ok"), (False, "warning"), (None, "warning")])
def test_clock_synchronisation(synchronised: bool | None, status: str) -> None:
    assert statuses(system.clock(now(), synchronised, "test")) == [status]


def test_clock_in_the_past_is_a_problem() -> None:
    past = datetime.datetime(2001, 1, 1, tzinfo=datetime.UTC)
    assert statuses(system.clock(past, True, "test")) == ["problem"]


def test_ntp_state_is_read_or_unknown() -> None:
    synchronised, source = system.ntp_synchronised()
    assert synchronised in (True, False, None) and source


# -- the running server ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "alive"), [("self", True), ("999999999", False), ("garbage", False), (None, False)]
)
def test_running_pid_from_the_pidfile(tmp_path: Path, content: str | None, alive: bool) -> None:
    from tigase_py.server.config.load import load_config
    from tigase_py.server.doctor import running_pid

    path = tmp_path / "tigase.toml"
    path.write_text('[server]\npidfile = "s.pid"\n[[listeners]]\ntls = "none"\nrequire_tls = false\n')
    if content is not None:
        (tmp_path / "s.pid").write_text(str(os.getpid()) if content == "self" else content)
    assert running_pid(load_config(path)) == (os.getpid() if alive else None)
