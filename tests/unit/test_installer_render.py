"""The installer's controller-side pieces: the rendered config, the unit template, the wheelhouse tar."""

from __future__ import annotations

import hashlib
import sys
import tomllib
from pathlib import Path

import jinja2
import pytest

from tigase_py.installer import database, inventory, render, toml_text, wheelhouse
from tigase_py.installer.options import InstallOptions, Targets
from tigase_py.server.config.errors import ConfigError

UNIT_TEMPLATE = Path(render.__file__).parent / "project/roles/tigase/templates/tigase-py.service.j2"


def test_toml_text_round_trips_through_tomllib():
    document = {
        "server": {"vhosts": ["a.test", "b.test"], "debug": False, "port": 5222},
        "listeners": [{"type": "c2s", "port": 1}, {"type": "c2s", "port": 2}],
        "vhosts": {"a.test": {"registration": False}, 'odd "name"': {"x": 1.5}},
    }
    assert tomllib.loads(toml_text.dumps(document)) == document


def test_rendered_config_applies_the_options_and_loads():
    options = InstallOptions(
        vhosts=("chat.example", "muc.example"),
        admin_jid="boss@chat.example",
        db_url="mysql+asyncmy://tigase:pw@db.example/tigase",
        c2s_port=15222,
        direct_tls_port=15223,
        http_port=15280,
        max_connections=777,
        address="::",
    )
    render.validate(options)  # the server's own loader accepts it
    config = tomllib.loads(render.render(options))
    assert config["server"]["vhosts"] == ["chat.example", "muc.example"]
    assert config["server"]["admins"] == ["boss@chat.example"]
    assert config["server"]["pidfile"] == "/var/lib/tigase-py/tigase-py.pid"
    assert config["storage"]["url"] == options.db_url
    assert [(item["address"], item["port"], item["tls"]) for item in config["listeners"]] == [
        ("::", 15222, "starttls"),
        ("::", 15223, "direct"),
    ]
    assert config["limits"]["max_connections"] == 777
    assert config["http"] == {"enabled": True, "address": "127.0.0.1", "port": 15280}
    assert config["tls"]["certificate"] == "/etc/tigase-py/certs/chat.example.crt"
    assert set(config["vhosts"]) == {"chat.example", "muc.example"}


def test_default_storage_is_sqlite_in_the_state_directory():
    config = tomllib.loads(render.render(InstallOptions()))
    assert config["storage"]["url"] == "sqlite+aiosqlite:////var/lib/tigase-py/tigase.db"


@pytest.mark.parametrize(
    "options",
    [InstallOptions(vhosts=("bad host",)), InstallOptions(admin_jid="not a jid"), InstallOptions(address="nowhere")],
)
def test_bad_options_are_refused_before_anything_runs(options):
    with pytest.raises((ValueError, ConfigError)):
        render.validate(options)


def unit(**values: object) -> str:
    defaults = {
        "ansible_managed": "managed",
        "tigase_user": "tigase",
        "tigase_venv": "/opt/tigase-py/venv",
        "tigase_config_dir": "/etc/tigase-py",
        "tigase_state_dir": "/var/lib/tigase-py",
        "tigase_max_connections": 10000,
        "tigase_c2s_port": 5222,
        "tigase_http_port": 5280,
    }
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True)
    return environment.from_string(UNIT_TEMPLATE.read_text()).render({**defaults, **values})


def test_unit_sizes_open_files_for_the_connections_and_sandboxes():
    text = unit(tigase_max_connections=50000)
    lines = set(text.splitlines())
    assert "LimitNOFILE=101024" in lines
    assert {"NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/tigase-py"} <= lines
    assert "User=tigase" in lines and "CapabilityBoundingSet=" in lines
    assert (
        "ExecStart=/opt/tigase-py/venv/bin/tigase-py --config /etc/tigase-py/tigase.toml server start --foreground"
        in lines
    )


def test_unit_grants_only_the_bind_capability_for_low_ports():
    lines = set(unit(tigase_c2s_port=522).splitlines())
    assert "AmbientCapabilities=CAP_NET_BIND_SERVICE" in lines
    assert "CapabilityBoundingSet=" not in lines


def fake_wheelhouse(directory: Path) -> wheelhouse.Wheelhouse:
    directory.mkdir()
    (directory / "tigase_py-1.2.3-py3-none-any.whl").write_bytes(b"server")
    (directory / "dep-1.0-py3-none-any.whl").write_bytes(b"dependency")
    return wheelhouse.inspect(directory)


def test_wheelhouse_archive_is_reproducible(tmp_path):
    wheels = fake_wheelhouse(tmp_path / "wheels")
    assert wheels.version == "1.2.3"
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    first = wheelhouse.archive(wheels, tmp_path / "one")
    (tmp_path / "wheels" / "dep-1.0-py3-none-any.whl").touch()  # a new mtime changes nothing
    second = wheelhouse.archive(wheels, tmp_path / "two")
    assert hashlib.sha256(first.read_bytes()).digest() == hashlib.sha256(second.read_bytes()).digest()


def test_wheelhouse_python_comes_from_version_bound_wheels(tmp_path):
    wheels = fake_wheelhouse(tmp_path / "wheels")
    assert wheels.python_version == "{}.{}".format(*sys.version_info[:2])  # all pure: this interpreter's
    (tmp_path / "wheels" / "cryptography-44.0-cp37-abi3-manylinux_2_28_x86_64.whl").write_bytes(b"")
    (tmp_path / "wheels" / "uvloop-0.21-cp312-cp312-manylinux_2_17_x86_64.whl").write_bytes(b"")
    assert wheelhouse.inspect(tmp_path / "wheels").python_version == "3.12"


def test_wheelhouse_needs_exactly_one_server_wheel(tmp_path):
    with pytest.raises(wheelhouse.WheelhouseError, match="exactly one"):
        wheelhouse.inspect(tmp_path)


def test_ssh_inventory_never_prompts_and_carries_the_ssh_options(tmp_path):
    targets = Targets(hosts=("a.example", "b.example"), ssh_user="ops", ssh_port=2222, ssh_key=tmp_path / "id")
    built = inventory.build_inventory(targets)
    assert isinstance(built, dict)
    hosts = built["all"]["hosts"]
    assert set(hosts) == {"a.example", "b.example"}
    assert hosts["a.example"]["ansible_port"] == 2222 and hosts["a.example"]["ansible_user"] == "ops"
    assert "BatchMode=yes" in hosts["a.example"]["ansible_ssh_common_args"]


def test_install_vars_carry_config_certificates_and_wheelhouse(tmp_path):
    wheels = fake_wheelhouse(tmp_path / "wheels")
    options = InstallOptions(vhosts=("chat.example",), admin_jid="a@chat.example", admin_password="pw", upgrade=True)
    extravars = inventory.install_vars(options, wheels, tmp_path)
    assert extravars["tigase_version"] == "1.2.3" and extravars["tigase_serial"] == 1
    assert Path(extravars["tigase_wheelhouse_archive"]).is_file()
    assert tomllib.loads(extravars["tigase_config_text"])["server"]["vhosts"] == ["chat.example"]
    assert [item["dest"] for item in extravars["tigase_cert_files"]] == ["chat.example.crt", "chat.example.key"]
    assert extravars["tigase_cert_replace"] is False  # self-signed: made once, never replaced
    assert all(Path(item["src"]).is_file() for item in extravars["tigase_cert_files"])


@pytest.mark.parametrize(
    ("name", "parts"),
    [
        ("db.example", (None, "db.example", None)),
        ("db.example:2222", (None, "db.example", 2222)),
        ("deploy@db.example:2222", ("deploy", "db.example", 2222)),
        ("deploy@10.0.0.5", ("deploy", "10.0.0.5", None)),
        ("[::1]:2222", (None, "::1", 2222)),
        ("fe80::1", (None, "fe80::1", None)),
    ],
)
def test_split_host_reads_user_host_and_port(name, parts):
    assert inventory.split_host(name) == parts


def test_host_port_and_user_in_the_name_win_over_the_options():
    targets = Targets(hosts=("deploy@db.example:2222", "other.example"), ssh_user="ops", ssh_port=22)
    hosts = inventory.build_inventory(targets)["all"]["hosts"]  # type: ignore[index]
    first, second = hosts["deploy@db.example:2222"], hosts["other.example"]
    assert (first["ansible_host"], first["ansible_user"], first["ansible_port"]) == ("db.example", "deploy", 2222)
    assert (second["ansible_host"], second["ansible_user"], second["ansible_port"]) == ("other.example", "ops", 22)


def test_db_admin_url_makes_the_server_url_from_the_account():
    options = InstallOptions(
        db_admin_url="mysql://root:rootpw@db.example:3307/", db_user="chat", db_name="chatdb", db_password="p@ss"
    )
    resolved = database.resolve(options)
    assert resolved.db_url == "mysql://chat:p%40ss@db.example:3307/chatdb"
    render.validate(resolved)
    assert tomllib.loads(render.render(resolved))["storage"]["url"] == resolved.db_url


def test_db_admin_url_with_db_takes_the_account_from_the_db_url():
    options = InstallOptions(
        db_admin_url="mysql://root:rootpw@db.example/", db_url="mysql+asyncmy://chat:secret@db.example/chatdb"
    )
    resolved = database.resolve(options)
    assert (resolved.db_name, resolved.db_user, resolved.db_password) == ("chatdb", "chat", "secret")
    assert resolved.db_url == options.db_url


def test_without_db_admin_url_the_options_stay():
    options = InstallOptions(db_url="sqlite+aiosqlite:////srv/x.db")
    assert database.resolve(options) is options


def test_install_mariadb_points_the_server_at_the_local_mariadb():
    options = InstallOptions(install_mariadb=True, db_password="secret")
    assert database.resolve(options).db_url == "mysql://tigase:secret@127.0.0.1:3306/tigase"
    with pytest.raises(ValueError, match="--install-mariadb needs --db-password"):
        database.resolve(InstallOptions(install_mariadb=True))


def test_an_installed_copy_uses_the_wheelhouse_beside_its_venv(tmp_path, monkeypatch):
    from tigase_py.installer import deploy
    from tigase_py.server import __version__

    shipped = tmp_path / "wheelhouse"
    shipped.mkdir()
    (shipped / f"tigase_py-{__version__}-py3-none-any.whl").write_bytes(b"")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    monkeypatch.setattr(wheelhouse, "source_checkout", lambda: None)
    assert wheelhouse.installed_wheelhouse() == shipped
    found = deploy.prepare_wheelhouse(InstallOptions(), tmp_path / "cache")
    assert (found.directory, found.version) == (shipped, __version__)
    assert not (tmp_path / "cache").exists()  # nothing built


def test_without_checkout_or_shipped_wheelhouse_the_error_asks_for_one(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "venv"))
    monkeypatch.setattr(wheelhouse, "source_checkout", lambda: None)
    assert wheelhouse.installed_wheelhouse() is None
    with pytest.raises(wheelhouse.WheelhouseError, match="not a source checkout; pass --wheelhouse DIR"):
        wheelhouse.build(tmp_path / "cache")
