"""Config of the login throttle ([limits]) and of API key scopes ([http]): both key forms, defaults,
and one message per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_config_load import PLAIN_LISTENER, load_error, write
from tigase_py.server.config.load import load_config

BOTH_FORMS = """
[http.api_keys]
ops = "a-long-random-api-key-here"

[http.api_keys.grafana]
key = "another-long-random-api-key"
scopes = ["read"]

[http.api_keys.deploy]
key = "yet-another-long-random-key"
"""


def test_defaults_trust_only_loopback_and_keep_upload_off(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, PLAIN_LISTENER))
    assert config.limits.trusted_networks == ("127.0.0.0/8", "::1/128")
    assert (config.limits.login_failures_per_account_ip, config.limits.login_failures_per_ip) == (5, 20)
    assert config.limits.login_failures_per_account == 50 and config.limits.login_lockout == 900.0
    assert config.limits.registrations_per_ip == 5 and config.limits.http_auth_failures_per_ip == 10
    assert config.http.scripts_upload is False


def test_plain_and_table_key_forms_and_their_scopes(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, PLAIN_LISTENER + BOTH_FORMS))
    assert set(config.http.api_keys) == {"ops", "grafana", "deploy"}
    assert config.http.scopes_of("ops") == {"read", "admin"}  # the plain form: never scripts
    assert config.http.scopes_of("grafana") == {"read"}
    assert config.http.scopes_of("deploy") == {"read"}  # a table without scopes: least privilege


def test_trusted_networks_are_canonical_cidrs(tmp_path: Path) -> None:
    text = PLAIN_LISTENER + '[limits]\ntrusted_networks = ["10.1.2.3/8", "::1"]\nlogin_lockout = "2m"\n'
    config = load_config(write(tmp_path, text))
    assert config.limits.trusted_networks == ("10.0.0.0/8", "::1/128")
    assert config.limits.login_lockout == 120.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[http.api_keys.x]\nkey = "short"\n', "http.api_keys.x.key: an API key must be a string of at least 16"),
        (
            '[http.api_keys.x]\nkey = "long-enough-key-0123456"\nscopes = ["root"]\n',
            'http.api_keys.x.scopes: unknown scope "root"',
        ),
        ('[http.api_keys.x]\nkey = "long-enough-key-0123456"\nscopes = []\n', "give at least one scope"),
        ('[http.api_keys.x]\nkey = "long-enough-key-0123456"\nscope = ["read"]\n', 'did you mean "scopes"'),
        ('[limits]\ntrusted_networks = ["nope"]\n', 'limits.trusted_networks: item 0: "nope" is not an address'),
        ("[limits]\nlogin_failures_per_ip = 0\n", "limits.login_failures_per_ip"),
        ('[http]\nscripts_upload = "yes"\n', "http.scripts_upload"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    assert message in load_error(tmp_path, PLAIN_LISTENER + text)
