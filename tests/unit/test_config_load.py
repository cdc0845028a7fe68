"""Config loading: defaults, path resolution, and one message per bad value naming key and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from tigase_py.server.config.errors import ConfigError
from tigase_py.server.config.load import config_from_dict, load_config
from tigase_py.server.config.schema import ALL_MODULES

PLAIN_LISTENER = '[[listeners]]\ntls = "none"\nrequire_tls = false\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tigase.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return str(info.value)


@pytest.fixture
def certs(tmp_path: Path) -> str:
    (tmp_path / "c.crt").write_text("cert")
    (tmp_path / "c.key").write_text("key")
    return '[tls]\ncertificate = "c.crt"\nkey = "c.key"\n'


def test_load_config_defaults_with_plain_listener(tmp_path):
    config = load_config(write(tmp_path, PLAIN_LISTENER))
    assert config.path == (tmp_path / "tigase.toml").resolve()
    assert config.server.vhosts == ("localhost",)
    assert config.server.pidfile == tmp_path.resolve() / "tigase-py.pid"
    assert config.storage.url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'tigase.db'}"
    assert config.limits.max_stanza_size == 262144
    assert config.modules.enabled == ALL_MODULES
    assert config.listeners[0].port == 5222 and config.listeners[0].kind == "c2s"
    assert config.vhost_options == {}


def test_load_config_parses_sizes_durations_and_resolves_paths(tmp_path, certs):
    config = load_config(
        write(
            tmp_path,
            certs
            + '[server]\nvhosts = ["Example.COM", "b.org"]\nadmins = ["Admin@example.com"]\n'
            + 'log_file = "logs/x.log"\npidfile = "/run/t.pid"\n'
            + '[storage]\nurl = "sqlite+aiosqlite:///data/t.db"\n'
            + '[limits]\nmax_stanza_size = "1MiB"\nidle_timeout = "5m"\npre_auth_timeout = 30\n'
            + '[[listeners]]\ntype = "c2s"\naddress = "::"\nport = 5223\ntls = "direct"\n'
            + '[modules]\nenabled = ["ping", "disco", "version"]\n[modules.version]\nshow_os = true\n'
            + '[vhosts."b.org"]\nregistration = true\n',
        )
    )
    base = tmp_path.resolve()
    assert config.server.vhosts == ("example.com", "b.org")
    assert config.server.admins == ("admin@example.com",)
    assert config.server.log_file == base / "logs" / "x.log"
    assert config.server.pidfile == Path("/run/t.pid")
    assert config.storage.url == f"sqlite+aiosqlite:///{base / 'data' / 't.db'}"
    assert config.tls.certificate == base / "c.crt"
    assert config.limits.max_stanza_size == 1024 * 1024
    assert config.limits.idle_timeout == 300.0 and config.limits.pre_auth_timeout == 30.0
    assert config.listeners[0].address == "::" and config.listeners[0].tls == "direct"
    assert config.modules.enabled == ("ping", "disco", "version")
    assert config.modules.options == {"version": {"show_os": True}}
    assert config.options_for("b.org").registration is True
    assert config.options_for("example.com").registration is False


def test_snmp_versions_and_system_group_options(tmp_path):
    assert load_config(write(tmp_path, PLAIN_LISTENER)).snmp.versions == ("2c", "3")
    text = '[snmp]\nversions = ["3", "1", "2C"]\nsys_name = "xmpp-1"\nsys_location = "rack 4"\n'
    snmp = load_config(write(tmp_path, PLAIN_LISTENER + text)).snmp
    assert snmp.versions == ("1", "2c", "3") and snmp.sys_name == "xmpp-1" and snmp.sys_location == "rack 4"
    assert snmp.sys_contact == ""


def test_load_config_keeps_non_sqlite_url(tmp_path):
    url = "mysql+asyncmy://tigase:pw@db.local/tigase"
    config = load_config(write(tmp_path, PLAIN_LISTENER + f'[storage]\nurl = "{url}"\n'))
    assert config.storage.url == url


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[limits]\nmax_stanza_size = "huge"', 'limits.max_stanza_size: expected a size like "256KiB", got "huge"'),
        ("[limits]\nmax_stanza_size = 100", "limits.max_stanza_size: must be at least 10000"),
        ('[limits]\nidle_timeout = "soon"', "limits.idle_timeout: expected a duration"),
        ("[limits]\nmax_connections = 0", "limits.max_connections: must be at least 1, got 0"),
        ('[limits]\noffline_queue_size = "5"', 'limits.offline_queue_size: expected an integer, got "5"'),
        ('[server]\nvhosts = ["bad domain"]', "server.vhosts: item 0: expected a domain name"),
        ("[server]\nvhosts = []", "server.vhosts: at least one virtual host is required"),
        ('[server]\nadmins = ["example.com"]', "server.admins: item 0: expected a bare JID"),
        ('[server]\nadmins = ["a@b.com/res"]', "server.admins: item 0: expected a bare JID"),
        ('[server]\nlog_level = "loud"', 'server.log_level: expected one of debug, info, warning, error, got "loud"'),
        ('[server]\nresource_conflict = "x"', "server.resource_conflict: expected one of kick_old, refuse"),
        ('[server]\nvhostz = ["a.com"]', 'server.vhostz: unknown key (did you mean "vhosts"?)'),
        ("[limitz]\n", 'limitz: unknown key (did you mean "limits"?)'),
        ('[storage]\nurl = "nonsense"', "storage.url: expected a database URL"),
        ("[auth]\nscram_iterations = 10", "auth.scram_iterations: must be at least 4096"),
        ('[auth]\nmechanisms = ["MD5"]', "auth.mechanisms: item 0: expected one of"),
        ("[auth]\nmechanisms = []", "auth.mechanisms: at least one SASL mechanism is required"),
        ('[modules]\nenabled = ["pingg"]', 'modules.enabled: item 0: unknown module "pingg" (did you mean "ping"?)'),
        ('[modules]\nenabled = ["pubsbu"]', 'unknown module "pubsbu" (did you mean "pubsub"?)'),
        ("[modules.rooster]\n", 'modules.rooster: unknown key (did you mean "roster"?)'),
        ("[modules]\nping = 1", "modules.ping: expected a table [modules.ping], got 1"),
        ('[vhosts."other.org"]\nregistration = true', 'vhosts."other.org": not listed in server.vhosts'),
        ('[vhosts."localhost"]\nregister = true', 'vhosts."localhost".register: unknown key'),
        ('[tls]\ncertificate = "missing.crt"\nkey = "missing.key"', "tls.certificate: file not found"),
        ('[tls]\ncertificate = "x.crt"', "tls.key: tls.certificate and tls.key must be given together"),
        ('[snmp]\nversions = ["2"]', 'snmp.versions: expected one of 1, 2c, 3, got "2"'),
        ("[snmp]\nversions = []", "snmp.versions: expected at least one of"),
    ],
)
def test_load_config_rejects_bad_value_naming_key(tmp_path, text, expected):
    message = load_error(tmp_path, PLAIN_LISTENER + text + "\n")
    assert message.startswith(f"{tmp_path / 'tigase.toml'}: ")
    assert expected in message


@pytest.mark.parametrize(
    ("listener", "expected"),
    [
        ('port = 70000\ntls = "none"\nrequire_tls = false', "listeners[0].port: expected a port 1-65535, got 70000"),
        ('address = "localhost"\ntls = "none"\nrequire_tls = false', "listeners[0].address: expected an IP address"),
        ('tls = "maybe"', 'listeners[0].tls: expected one of starttls, direct, none, got "maybe"'),
        ('type = "s3s"\ntls = "none"\nrequire_tls = false', "listeners[0].type: expected one of c2s"),
        ('tls = "none"\nrequire_tls = true', "listeners[0].require_tls: require_tls = true needs"),
        ('tls = "starttls"', 'listeners[0].tls: tls = "starttls" needs tls.certificate and tls.key'),
        ('tls = "none"\nrequire_tls = false\nprot = 1', 'listeners[0].prot: unknown key (did you mean "port"?)'),
    ],
)
def test_load_config_rejects_bad_listener(tmp_path, listener, expected):
    assert expected in load_error(tmp_path, f"[[listeners]]\n{listener}\n")


def test_load_config_rejects_duplicate_listener_port(tmp_path):
    second = '[[listeners]]\naddress = "0.0.0.0"\ntls = "none"\nrequire_tls = false\n'
    message = load_error(tmp_path, PLAIN_LISTENER + second)
    assert "listeners[1].port: 0.0.0.0:5222 is already used by listeners[0]" in message or (
        "listeners[1].port: 127.0.0.1:5222 is already used by listeners[0]" in message
    )


def test_load_config_allows_same_port_on_other_address(tmp_path):
    second = '[[listeners]]\naddress = "127.0.0.2"\ntls = "none"\nrequire_tls = false\n'
    assert len(load_config(write(tmp_path, PLAIN_LISTENER + second)).listeners) == 2


def test_load_config_default_listener_needs_tls(tmp_path):
    assert 'listeners[0].tls: tls = "starttls" needs' in load_error(tmp_path, "")


def test_load_config_reports_toml_syntax_error(tmp_path):
    message = load_error(tmp_path, "[server\n")
    assert "tigase.toml: invalid TOML" in message and "line 1" in message


def test_load_config_reports_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="nothere.toml: file not found"):
        load_config(tmp_path / "nothere.toml")


def test_config_from_dict_builds_config_without_file(tmp_path):
    config = config_from_dict(
        {"listeners": [{"tls": "none", "require_tls": False, "port": 15222}]}, tmp_path / "tigase.toml"
    )
    assert config.listeners[0].port == 15222
    assert config.directory == tmp_path.resolve()
