"""First-minute roughness: help screens, load defaults, one-line login errors, the load parameter line."""

from __future__ import annotations

import dataclasses

import pytest
import typer
from typer.testing import CliRunner

from tigase_py.cli import main
from tigase_py.cli.commands import load
from tigase_py.compat_tests.load import client, report
from tigase_py.compat_tests.load.scenario import LoadTarget, Scenario

runner = CliRunner()


def command_paths(command: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command path under the root (typer vendors its own click: groups are found by ``commands``)."""
    paths = [prefix]
    for name, sub in getattr(command, "commands", {}).items():
        paths += command_paths(sub, (*prefix, name))
    return paths


ALL_COMMANDS = command_paths(typer.main.get_command(main.app))
assert len(ALL_COMMANDS) > 30


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda path: " ".join(path) or "root")
def test_no_flag_shows_a_value_type_in_help(path):
    shown = runner.invoke(main.app, [*path, "--help"], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert "<bool>" not in shown.output
    assert "--help" in shown.output


def test_the_help_still_shows_types_of_options_with_values():
    shown = runner.invoke(main.app, ["load", "run", "--help"], env={"COLUMNS": "200"})
    assert "<int>" in shown.output and "<file>" in shown.output


def test_load_run_help_shows_what_a_left_out_option_means():
    shown = runner.invoke(main.app, ["load", "run", "--help"], env={"COLUMNS": "250"}).output
    for text in ("[default: 10]", "[default: one-to-one]", "[default: SCRAM-SHA-256]", "[default: 5.0]"):
        assert text in shown


def test_load_help_defaults_match_the_scenario_and_target():
    scenario = {field.name: field.default for field in dataclasses.fields(Scenario)}
    target = {field.name: field.default for field in dataclasses.fields(LoadTarget)}
    for key, shown in load.DEFAULTS.items():
        if key == "scenario":
            continue
        real = scenario.get(key, target.get(key))
        assert shown == ("off" if real is False else str(real)), key


def test_load_server_accepts_tigase_py_like_compat():
    assert "tigase-py" in load.SERVERS
    refused = runner.invoke(main.app, ["load", "run", "--server", "openfire"])
    assert refused.exit_code == 2 and "prosody, ejabberd, tigase-py" in refused.stderr


def test_sasl_refusal_is_one_readable_line():
    reply = b"<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure>"
    assert str(client.refusal(reply)) == "SASL failure: not-authorized (wrong password or no such account)"
    stream = b"<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
    assert str(client.refusal(stream)) == "stream error: host-unknown"


def test_login_exceptions_are_described_without_repr():
    assert client.describe(client.LoginError("SASL failure: not-authorized")) == "SASL failure: not-authorized"
    assert client.describe(ConnectionRefusedError(111, "Connection refused")) == "Connection refused"
    assert client.describe(TimeoutError()) == "timed out"


def test_load_parameter_line_counts_the_sessions_of_one_to_one():
    scenario = dataclasses.asdict(Scenario("chat", "one-to-one", pairs=10))
    line = report.parameters(scenario)
    assert line.startswith("sessions=20, ")
    assert "pairs=10" in line and "contacts" not in line and "rooms" not in line
    assert "window" not in line  # per-sender pacing: the window does not apply


def test_load_parameter_line_of_a_login_storm_has_no_message_fields():
    line = report.parameters(dataclasses.asdict(Scenario("storm", "login-storm", sessions=20)))
    assert line.startswith("sessions=20, ") and "rate" not in line and "message_size" not in line
