"""The admin socket's safety rules: what the server refuses to serve and what the client refuses to use."""

from __future__ import annotations

import grp
import os
import socket
import stat
from pathlib import Path

import pytest

from tigase_py.cli import errors, local_admin
from tigase_py.server.config.load import config_from_dict
from tigase_py.server.config.schema import AdminSocketConfig
from tigase_py.server.net import admin_socket

PLAIN = {"listeners": [{"type": "c2s", "tls": "none", "port": 5222}]}


def bound(path: Path, group: str | None = None) -> socket.socket:
    return admin_socket.bind(AdminSocketConfig(path=path, group=group))


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_config_defaults_to_a_socket_beside_the_pidfile(tmp_path: Path) -> None:
    config = config_from_dict(PLAIN, tmp_path / "tigase.toml")
    assert config.admin_socket == AdminSocketConfig(enabled=True, path=tmp_path.resolve() / "tigase-py.sock")
    installed = config_from_dict({**PLAIN, "server": {"pidfile": "/var/lib/tigase-py/tigase-py.pid"}}, tmp_path / "t")
    assert installed.admin_socket.path == Path("/var/lib/tigase-py/tigase-py.sock")
    custom = config_from_dict({**PLAIN, "admin_socket": {"path": "run/admin.sock", "group": "tigase"}}, tmp_path / "t")
    assert custom.admin_socket.path == tmp_path.resolve() / "run" / "admin.sock"
    assert custom.admin_socket.group == "tigase"


def test_socket_is_0600_before_it_listens_and_0660_with_a_group(tmp_path: Path) -> None:
    sock = bound(tmp_path / "a.sock")
    try:
        assert stat.S_ISSOCK((tmp_path / "a.sock").lstat().st_mode) and mode_of(tmp_path / "a.sock") == 0o600
    finally:
        sock.close()
    group = grp.getgrgid(os.getgid()).gr_name
    sock = bound(tmp_path / "g.sock", group)
    try:
        assert mode_of(tmp_path / "g.sock") == 0o660 and (tmp_path / "g.sock").lstat().st_gid == os.getgid()
    finally:
        sock.close()


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o1777])
def test_server_refuses_a_directory_others_can_write(tmp_path: Path, mode: int) -> None:
    directory = tmp_path / "run"
    directory.mkdir()
    directory.chmod(mode)
    with pytest.raises(admin_socket.AdminSocketError, match="writable by group or others"):
        bound(directory / "a.sock")
    assert not (directory / "a.sock").exists()


def test_server_creates_a_missing_directory_0700(tmp_path: Path) -> None:
    bound(tmp_path / "new" / "a.sock").close()
    assert mode_of(tmp_path / "new") == 0o700


def test_server_replaces_a_stale_socket_and_refuses_a_live_one_or_a_file(tmp_path: Path) -> None:
    path = tmp_path / "a.sock"
    bound(path).close()  # bound, never listening: what a crashed server leaves
    live = bound(path)
    live.listen(1)
    try:
        with pytest.raises(admin_socket.AdminSocketError, match="another server answers"):
            bound(path)
    finally:
        live.close()
    path.unlink()
    path.write_text("not a socket")
    with pytest.raises(admin_socket.AdminSocketError, match="is not a socket"):
        bound(path)


def test_server_refuses_an_unknown_group_and_a_too_long_path(tmp_path: Path) -> None:
    with pytest.raises(admin_socket.AdminSocketError, match="group 'no-such-group-x' does not exist"):
        bound(tmp_path / "a.sock", "no-such-group-x")
    with pytest.raises(admin_socket.AdminSocketError, match="longer than 107 bytes"):
        bound(tmp_path / ("x" * 120) / "a.sock")


def local(path: Path, group: str | None = None) -> local_admin.LocalSocket:
    return local_admin.LocalSocket(path, group, frozenset())


@pytest.mark.parametrize(
    "mode, group, message",
    [
        (0o666, None, "mode 0666 lets every user connect"),
        (0o604, None, "mode 0604 lets every user connect"),
        (0o660, None, "mode 0660 gives its group access but [admin_socket] group is not set"),
    ],
)
def test_client_refuses_a_socket_open_to_others(tmp_path: Path, mode: int, group: str | None, message: str) -> None:
    sock = bound(tmp_path / "a.sock")
    try:
        os.chmod(tmp_path / "a.sock", mode)
        with pytest.raises(errors.CliError, match="refusing the admin socket") as refused:
            local_admin.verify(local(tmp_path / "a.sock", group))
        assert message in str(refused.value) and refused.value.exit_code == 1
    finally:
        sock.close()


def test_client_accepts_0600_and_0660_with_the_configured_group(tmp_path: Path) -> None:
    group = grp.getgrgid(os.getgid()).gr_name
    plain, grouped = bound(tmp_path / "a.sock"), bound(tmp_path / "g.sock", group)
    try:
        local_admin.verify(local(tmp_path / "a.sock"))
        local_admin.verify(local(tmp_path / "g.sock", group))
    finally:
        plain.close()
        grouped.close()


def test_client_refuses_a_file_a_foreign_owner_and_a_writable_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    (tmp_path / "file").chmod(0o600)
    with pytest.raises(errors.CliError, match="it is not a socket"):
        local_admin.verify(local(tmp_path / "file"))
    sock = bound(tmp_path / "a.sock")
    try:
        if os.geteuid() == 0:
            os.chown(tmp_path / "a.sock", 4242, -1)
            with pytest.raises(errors.CliError, match="belongs to uid 4242"):
                local_admin.verify(local(tmp_path / "a.sock"))
            os.chown(tmp_path / "a.sock", 0, -1)
        tmp_path.chmod(0o777)
        with pytest.raises(errors.CliError, match="can be written by other users"):
            local_admin.verify(local(tmp_path / "a.sock"))
    finally:
        tmp_path.chmod(0o700)
        sock.close()
