"""What a load run does and against whom: typed, frozen scenarios, the load target, and TOML mixes.

A *scenario* is one phase of load of one kind (``login-storm``, ``idle``, ``one-to-one``,
``presence-storm``, ``muc-fanout``, ``pubsub-fanout``). A *mix* is a list of phases read from a
TOML file::

    name = "evening"                 # optional

    [defaults]                       # optional: any scenario key, applied to every phase
    duration = 10

    [[phase]]
    kind = "login-storm"
    sessions = 200
    ramp_up = 5                      # seconds over which logins are spread (0 = as fast as allowed)

    [[phase]]
    kind = "one-to-one"
    pairs = 50
    rate = 20                        # messages/s per sender ...
    rate_mode = "per-sender"         # ... or "total" (all senders together) or "window" (closed loop)
    message_size = 256               # bytes of <body> text
    warmup = 2
    max_count = 100000               # stop after this many delivered messages, whichever comes first

The *target* reuses the compat suite's description (:class:`tigase_py.compat_tests.target.Target`:
host, port, domain, ``tls`` = ``plain`` | ``starttls`` | ``direct``) and adds what load needs: the SASL
mechanism, how the N-th account is named, one password for all of them, and optionally the server's
PID (to read its memory from ``/proc``).
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from tigase_py.compat_tests.target import Target, TargetError, TlsPolicy, from_mapping

Kind = Literal["login-storm", "idle", "one-to-one", "presence-storm", "muc-fanout", "pubsub-fanout"]
KINDS: tuple[str, ...] = get_args(Kind)
RateMode = Literal["per-sender", "total", "window"]
RATE_MODES: tuple[str, ...] = get_args(RateMode)
Mechanism = Literal["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256"]
MECHANISMS: tuple[str, ...] = get_args(Mechanism)


class ScenarioError(ValueError):
    """A scenario, mix file or load target that cannot be used; the message names the bad key."""


@dataclass(frozen=True)
class Scenario:
    """One phase of load.

    Counts: ``sessions`` (login-storm, idle, and the publishers/subscribers of the fan-out kinds),
    ``pairs`` (one-to-one: 2 × pairs sessions chat in both directions), ``contacts`` (presence-storm:
    roster size of each of ``sessions`` users, all online), ``rooms`` (muc-fanout: ``sessions`` are
    spread over the rooms; pubsub-fanout: nodes).

    Pace: ``ramp_up`` spreads the logins over that many seconds; ``rate`` is messages (or presence
    broadcasts / publishes) per second per sender (``rate_mode="per-sender"``) or for all senders
    together (``"total"``); with ``"window"`` each sender keeps ``window`` messages in flight (closed
    loop, as fast as the server answers) and ``rate`` is ignored.

    Bounds: the measured part lasts ``duration`` seconds after ``warmup`` seconds (not counted), or
    stops early once ``max_count`` messages were delivered (0 = no count bound; checked once a
    second). ``login-storm`` ends when all sessions logged in (or ``duration`` passed); its latency
    figures are login durations (connect, TLS, SASL, bind). ``window`` applies to ``one-to-one``;
    the other kinds always pace their senders at ``rate``.
    """

    name: str
    kind: Kind
    sessions: int = 10
    pairs: int = 5
    contacts: int = 5
    rooms: int = 1
    ramp_up: float = 0.0
    rate: float = 10.0
    rate_mode: RateMode = "per-sender"
    window: int = 10
    duration: float = 5.0
    message_size: int = 32
    warmup: float = 1.0
    max_count: int = 0
    login_concurrency: int = 32

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ScenarioError(f"kind: must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.rate_mode not in RATE_MODES:
            raise ScenarioError(f"rate_mode: must be one of {', '.join(RATE_MODES)}, not {self.rate_mode!r}")
        for key in ("sessions", "pairs", "contacts", "rooms", "window", "message_size", "login_concurrency"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ScenarioError(f"{key}: must be an integer >= 1, not {value!r}")
        if isinstance(self.max_count, bool) or not isinstance(self.max_count, int) or self.max_count < 0:
            raise ScenarioError(f"max_count: must be an integer >= 0, not {self.max_count!r}")
        for key in ("ramp_up", "rate", "duration", "warmup"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ScenarioError(f"{key}: must be a number >= 0, not {value!r}")
        if self.duration <= 0:
            raise ScenarioError("duration: must be > 0")
        if self.rate <= 0 and self.rate_mode != "window":
            raise ScenarioError("rate: must be > 0 unless rate_mode is 'window'")

    @property
    def session_count(self) -> int:
        """How many sessions this phase logs in."""
        if self.kind == "one-to-one":
            return 2 * self.pairs
        return self.sessions

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LoadTarget:
    """The server under load: the compat target's connection fields plus account naming and SASL.

    ``tls`` keeps the compat suite's spelling: ``plain`` (no TLS), ``starttls``, ``direct`` (TLS from
    the first byte, XEP-0368). Account N (0-based) is ``account_pattern.format(n=N)`` at ``domain``,
    all with ``password``. Server memory comes from ``/proc/<server_pid>`` (a local process) or else
    from ``metrics_url`` (Prometheus text: our ``/metrics`` or Prosody's ``mod_http_openmetrics``).
    """

    host: str
    port: int
    domain: str
    tls: TlsPolicy = "starttls"
    verify_tls: bool = False
    mechanism: Mechanism = "SCRAM-SHA-256"
    account_pattern: str = "load{n}"
    password: str = "load-secret"
    server_pid: int | None = None
    metrics_url: str | None = None  # Prometheus /metrics, for memory when there is no local PID
    name: str = ""

    def __post_init__(self) -> None:
        try:
            self.as_compat_target()
        except TargetError as exc:
            raise ScenarioError(f"target: {exc}") from None
        if self.mechanism not in MECHANISMS:
            raise ScenarioError(f"mechanism: must be one of {', '.join(MECHANISMS)}, not {self.mechanism!r}")
        if "{n}" not in self.account_pattern or "@" in self.account_pattern:
            raise ScenarioError(f"account_pattern: must contain '{{n}}' and no '@', not {self.account_pattern!r}")
        if not self.name:
            object.__setattr__(self, "name", self.domain)

    def username(self, n: int) -> str:
        """The local part of account ``n``."""
        return self.account_pattern.format(n=n)

    def jid(self, n: int) -> str:
        return f"{self.username(n)}@{self.domain}"

    def as_compat_target(self) -> Target:
        return Target(host=self.host, port=self.port, domain=self.domain, tls=self.tls,
                      verify_tls=self.verify_tls, name=self.name)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe description, without the password."""
        data = asdict(self)
        data.pop("password")
        return data

    @classmethod
    def from_target(cls, target: Target, **load_fields: Any) -> LoadTarget:
        """Extend a compat :class:`Target` with the load fields (``mechanism``, ``account_pattern``, ...)."""
        return cls(host=target.host, port=target.port, domain=target.domain, tls=target.tls,
                   verify_tls=target.verify_tls, name=target.name, **load_fields)  # fmt: skip


LOAD_TARGET_KEYS = ("mechanism", "account_pattern", "password", "server_pid", "metrics_url")


def load_target(path: Path) -> LoadTarget:
    """A compat target TOML file (top level or ``[target]``) plus the optional load keys
    ``mechanism``, ``account_pattern``, ``password``, ``server_pid`` and ``metrics_url``."""
    data = _read_toml(path)
    table = dict(data.get("target", data))
    extra = {key: table.pop(key) for key in LOAD_TARGET_KEYS if key in table}
    try:
        compat = from_mapping(table)
    except TargetError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    try:
        return LoadTarget.from_target(compat, **extra)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from None


@dataclass(frozen=True)
class Mix:
    """A named list of phases run one after the other."""

    name: str
    phases: tuple[Scenario, ...] = field(default_factory=tuple)


SCENARIO_KEYS = tuple(f.name for f in fields(Scenario))


def scenario_from_mapping(data: dict[str, Any], where: str = "scenario") -> Scenario:
    """Build a Scenario from a TOML table; errors read ``<where>.<key>: ...``."""
    unknown = sorted(set(data) - set(SCENARIO_KEYS))
    if unknown:
        raise ScenarioError(f"{where}.{unknown[0]}: unknown key (known: {', '.join(SCENARIO_KEYS)})")
    if "kind" not in data:
        raise ScenarioError(f"{where}.kind: missing (one of {', '.join(KINDS)})")
    values = dict(data)
    values.setdefault("name", str(data["kind"]))
    for key in ("ramp_up", "rate", "duration", "warmup"):
        if isinstance(values.get(key), int) and not isinstance(values.get(key), bool):
            values[key] = float(values[key])
    try:
        return Scenario(**values)
    except ScenarioError as exc:
        raise ScenarioError(f"{where}.{exc}") from None


def mix_from_mapping(data: dict[str, Any], name: str = "mix") -> Mix:
    """``{name?, defaults?, phase = [ {...}, ... ]}`` → Mix."""
    unknown = sorted(set(data) - {"name", "defaults", "phase"})
    if unknown:
        raise ScenarioError(f"{unknown[0]}: unknown top-level key (use name, defaults, [[phase]])")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ScenarioError("defaults: must be a table")
    phases = data.get("phase")
    if not isinstance(phases, list) or not phases:
        raise ScenarioError("phase: at least one [[phase]] table is required")
    built = []
    for i, phase in enumerate(phases):
        if not isinstance(phase, dict):
            raise ScenarioError(f"phase[{i}]: must be a table")
        built.append(scenario_from_mapping({**defaults, **phase}, where=f"phase[{i}]"))
    return Mix(name=str(data.get("name", name)), phases=tuple(built))


def load_mix(path: Path) -> Mix:
    """Read a scenario TOML file (see the module docstring); :class:`ScenarioError` names file and key."""
    data = _read_toml(path)
    try:
        return mix_from_mapping(data, name=Path(path).stem)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise ScenarioError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: {exc}") from None


def with_overrides(scenario: Scenario, **changes: Any) -> Scenario:
    """A copy with ``changes`` applied (validated again); keys that are None are left alone."""
    return replace(scenario, **{k: v for k, v in changes.items() if v is not None})
