"""Module options in [modules.<name>] are checked when the config is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from tigase_py.server.config.errors import ConfigError
from tigase_py.server.config.load import load_config

BASE = '[[listeners]]\ntype = "c2s"\ntls = "none"\n'


def load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "tigase.toml"
    path.write_text(BASE + text)
    load_config(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[modules.vcard]\nmax_size = "big"\n', "modules.vcard.max_size: expected int, got 'big'"),
        ("[modules.vcard]\ncolour = 1\n", "modules.vcard.colour: unknown option"),
        ("[modules.ping]\nfast = true\n", "modules.ping: this module takes no options"),
        ('[modules]\nenabled = ["ping"]\n[modules.vcard]\nmax_size = 1\n', "modules.vcard"),
    ],
)
def test_bad_module_options_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, text)
    assert message in str(info.value)
    assert str(info.value).startswith(str(tmp_path / "tigase.toml"))


def test_good_module_options_load(tmp_path: Path) -> None:
    load(tmp_path, "[modules.vcard]\nmax_size = 1024\n")


def test_snmp_protocols_are_read_whatever_their_case(tmp_path: Path) -> None:
    path = tmp_path / "tigase.toml"
    path.write_text(
        BASE
        + '[snmp]\nenabled = true\n[[snmp.users]]\nname = "ops"\nauth_key = "authkey123"\npriv_key = "privkey123"\n'
        + 'auth_protocol = "sha256"\npriv_protocol = "DES"\n'
    )
    [user] = load_config(path).snmp.users
    assert (user.auth_protocol, user.priv_protocol) == ("SHA256", "DES")
