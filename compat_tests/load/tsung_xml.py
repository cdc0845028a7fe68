"""Write a Tsung 1.7 scenario (``tsung-1.0.dtd``) for one load :class:`Scenario`.

Tsung's XMPP plugin (``ts_jabber``) logs in with SASL PLAIN only (or ANONYMOUS / EXTERNAL), after an
optional STARTTLS or over direct TLS; it has no SCRAM. Accounts come from a CSV file
(``username;password`` per line, read in order) so the N-th Tsung user is the target's N-th account.

How each kind maps onto Tsung's vocabulary:

=================  ===========================================================================================
login-storm        ``sessions`` users arrive over ``ramp_up`` s; each logs in (transaction ``login``), sends
                   initial presence, stays ``warmup`` s and closes.
idle               the same, staying online ``ramp_up + warmup + duration`` s.
one-to-one         ``2 × pairs`` users; each sends stamped ``<message type='chat'>`` (transaction ``chat``)
                   to the next *online* user, round robin (Tsung has no fixed partner), ``rate`` per second.
presence-storm     each user adds ``contacts`` online users to its roster and subscribes (Tsung answers
                   subscription requests itself), then broadcasts presence (transaction ``presence``).
muc-fanout         each user joins room ``room<k>`` (k drawn from 1..rooms) and sends stamped groupchat
                   messages (transaction ``chat``); every occupant's copy is a delivery.
=================  ===========================================================================================

Not expressible in Tsung 1.7: SCRAM (any), ``rate_mode = "window"`` (Tsung has no closed loop: it
sends on a timer, never on the partner's receipt) and ``pubsub-fanout`` with per-subscriber delivery
counts. :func:`unsupported_reason` names them.
"""

from __future__ import annotations

import math
from pathlib import Path
from xml.sax.saxutils import quoteattr

from tigase_py.compat_tests.load.scenario import LoadTarget, Scenario

DTD = "/usr/share/tsung/tsung-1.0.dtd"
# Seconds Tsung gets on top of the scenario's own length before its <load duration> stops it.
SLACK_S = 20
# Seconds between the last login and the first message, so destinations are online.
SETTLE_S = 1.0
DRAIN_S = 2.0


def unsupported_reason(scenario: Scenario) -> str | None:
    """Why Tsung cannot run ``scenario`` (None when it can)."""
    if scenario.kind == "pubsub-fanout":
        return "tsung 1.7 cannot count what each pubsub subscriber receives; use the tigase-py engine"
    if scenario.kind in ("one-to-one", "presence-storm", "muc-fanout") and scenario.rate_mode == "window":
        return "tsung has no closed-loop window (it sends on a timer); use rate_mode per-sender or total"
    return None


def mechanism_note(target: LoadTarget) -> str:
    """What Tsung does instead of the target's mechanism (empty when they agree)."""
    if target.mechanism == "PLAIN":
        return ""
    return f"tsung 1.7 speaks SASL PLAIN only: logged in with PLAIN instead of {target.mechanism}"


def sender_count(scenario: Scenario) -> int:
    return scenario.session_count


def per_sender_rate(scenario: Scenario) -> float:
    """Messages per second each session sends."""
    if scenario.rate_mode == "total":
        return scenario.rate / sender_count(scenario)
    return scenario.rate


def messages_per_sender(scenario: Scenario) -> int:
    """How many messages each session sends: warm-up plus measured time at its rate, capped by max_count."""
    count = math.ceil((scenario.warmup + scenario.duration) * per_sender_rate(scenario))
    if scenario.max_count:
        count = min(count, math.ceil(scenario.max_count / sender_count(scenario)))
    return max(1, count)


def arrival_seconds(scenario: Scenario) -> float:
    """Length of the arrival phase: ``ramp_up``, at least one second (Tsung's rate unit)."""
    return max(1.0, scenario.ramp_up)


def arrival_window(scenario: Scenario) -> float:
    """The arrival phase as written: Tsung's arrivals are random (Poisson), so a phase of exactly
    ``ramp_up`` seconds often starts fewer users than asked; a longer phase at the same rate, capped by
    ``maxnumber``, starts them all (and ends once they have started)."""
    return 3 * arrival_seconds(scenario) + 5


def planned_seconds(scenario: Scenario) -> float:
    """An upper bound of how long the run takes when the server keeps up (without Tsung's start-up)."""
    ramp = arrival_window(scenario)
    if scenario.kind == "login-storm":
        return ramp + scenario.warmup
    if scenario.kind == "idle":
        return 2 * ramp + scenario.warmup + scenario.duration
    sending = messages_per_sender(scenario) / per_sender_rate(scenario)
    return 2 * ramp + SETTLE_S + sending + DRAIN_S + (1.0 if scenario.kind == "presence-storm" else 0.0)


def users_csv(target: LoadTarget, scenario: Scenario) -> str:
    """One ``username;password`` line per account the scenario logs in (accounts 0..N-1)."""
    return "".join(f"{target.username(n)};{target.password}\n" for n in range(scenario.session_count))


def _num(value: float) -> str:
    """A number as Tsung reads it (NMTOKEN: no exponent, no trailing zeros)."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def _request(jabber: str, subst: bool = False) -> str:
    attribute = ' subst="true"' if subst else ""
    return f"<request{attribute}>{jabber}</request>"


def _login(target: LoadTarget) -> list[str]:
    lines = [
        _request(
            '<jabber type="connect" ack="local">'
            '<xmpp_authenticate username="%%_username%%" passwd="%%_password%%"/></jabber>',
            subst=True,
        )
    ]
    if target.tls == "starttls":
        lines += [
            _request('<jabber type="starttls" ack="bidi_ack"/>'),
            _request('<jabber type="connect" ack="local"/>'),
        ]
    lines += [
        '<transaction name="login">',
        _request('<jabber type="auth_sasl" ack="local"/>'),
        _request('<jabber type="connect" ack="local"/>'),
        _request('<jabber type="auth_sasl_bind" ack="local"/>'),
        _request('<jabber type="auth_sasl_session" ack="local"/>'),
        "</transaction>",
        _request('<jabber type="presence:initial" ack="no_ack"/>'),
    ]
    return lines


def _think(seconds: float) -> str:
    return f'<thinktime value="{_num(seconds)}" random="false"/>'


def _loop(scenario: Scenario, body: list[str]) -> list[str]:
    """``body`` repeated messages_per_sender times, one period of 1/rate apart."""
    period = 1.0 / per_sender_rate(scenario)
    return [
        f'<for from="1" to="{messages_per_sender(scenario)}" var="i">',
        *body,
        _think(period),
        "</for>",
    ]


def _session_body(scenario: Scenario) -> list[str]:
    ramp = arrival_seconds(scenario)
    size = scenario.message_size
    if scenario.kind == "login-storm":
        return [_think(max(scenario.warmup, 0.1))]
    if scenario.kind == "idle":
        return [_think(ramp + scenario.warmup + scenario.duration)]
    if scenario.kind == "one-to-one":
        chat = f'<jabber type="chat" ack="no_ack" size="{size}" destination="online" stamped="true"/>'
        return [
            _think(ramp + SETTLE_S),
            *_loop(scenario, ['<transaction name="chat">', _request(chat), "</transaction>"]),
        ]
    if scenario.kind == "presence-storm":
        subscribe = [
            f'<for from="1" to="{scenario.contacts}" var="c">',
            _request('<jabber type="iq:roster:add" ack="no_ack" destination="online"/>'),
            _request('<jabber type="presence:subscribe" ack="no_ack"/>'),
            "</for>",
        ]
        broadcast = _request('<jabber type="presence:broadcast" ack="no_ack" show="chat" status="load"/>')
        return [
            _think(ramp + SETTLE_S),
            *subscribe,
            _think(1.0),
            *_loop(scenario, ['<transaction name="presence">', broadcast, "</transaction>"]),
        ]
    if scenario.kind == "muc-fanout":
        room = (
            f'<setdynvars sourcetype="random_number" start="1" end="{scenario.rooms}"><var name="room"/></setdynvars>'
        )
        join = _request('<jabber type="muc:join" ack="no_ack" room="room%%_room%%" nick="%%_username%%"/>', subst=True)
        chat = _request(
            f'<jabber type="muc:chat" ack="no_ack" size="{size}" room="room%%_room%%" stamped="true"/>', subst=True
        )
        return [
            room,
            join,
            _think(ramp + SETTLE_S),
            *_loop(scenario, ['<transaction name="chat">', chat, "</transaction>"]),
        ]
    raise ValueError(f"tsung cannot run {scenario.kind}")


def scenario_xml(target: LoadTarget, scenario: Scenario, accounts_file: Path) -> str:
    """The Tsung configuration for ``scenario`` against ``target``; accounts are read from ``accounts_file``."""
    reason = unsupported_reason(scenario)
    if reason is not None:
        raise ValueError(reason)
    users = scenario.session_count
    ramp = arrival_seconds(scenario)
    bound = math.ceil(planned_seconds(scenario) + SLACK_S)
    server_type = "ssl" if target.tls == "direct" else "tcp"
    options = [
        f'<option type="ts_jabber" name="domain" value={quoteattr(target.domain)}/>',
        '<option type="ts_jabber" name="userid_max" value="0"/>',
        '<option type="ts_jabber" name="random_from_fileid" value="accounts"/>',
        '<option type="ts_jabber" name="offline_from_fileid" value="accounts"/>',
        '<option type="ts_jabber" name="fileid_delimiter" value=";"/>',
        f'<option name="file_server" id="accounts" value={quoteattr(str(accounts_file))}/>',
    ]
    if scenario.kind == "muc-fanout":
        service = quoteattr(f"conference.{target.domain}")
        options.append(f'<option type="ts_jabber" name="muc_service" value={service}/>')
    session = [
        '<setdynvars sourcetype="file" fileid="accounts" delimiter=";" order="iter">'
        '<var name="username"/><var name="password"/></setdynvars>',
        *_login(target),
        *_session_body(scenario),
        _think(DRAIN_S) if scenario.kind not in ("login-storm", "idle") else "",
        _request('<jabber type="close" ack="no_ack"/>'),
    ]
    lines = [
        '<?xml version="1.0"?>',
        f'<!DOCTYPE tsung SYSTEM "{DTD}">',
        '<tsung loglevel="warning" version="1.0" dumptraffic="false" backend="fullstats">',
        f'<clients><client host="localhost" use_controller_vm="true" maxusers="{users}"/></clients>',
        f'<servers><server host={quoteattr(target.host)} port="{target.port}" type="{server_type}"/></servers>',
        f'<load duration="{bound}" unit="second">',
        f'<arrivalphase phase="1" duration="{_num(arrival_window(scenario))}" unit="second">',
        f'<users maxnumber="{users}" arrivalrate="{_num(users / ramp)}" unit="second"/>',
        "</arrivalphase>",
        "</load>",
        "<options>",
        *options,
        "</options>",
        "<sessions>",
        f'<session probability="100" name={quoteattr(scenario.name)} type="ts_jabber" bidi="true">',
        *(line for line in session if line),
        "</session>",
        "</sessions>",
        "</tsung>",
    ]
    return "\n".join(lines) + "\n"
