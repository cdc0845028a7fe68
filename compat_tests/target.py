"""The server under test: how to reach it, which accounts to use, what it offers over HTTP."""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

TlsPolicy = Literal["starttls", "direct", "plain"]
TLS_POLICIES: tuple[str, ...] = ("starttls", "direct", "plain")


class TargetError(ValueError):
    """A target description that cannot be used (missing or bad field)."""


@dataclass(frozen=True)
class Account:
    jid: str
    password: str

    @property
    def local(self) -> str:
        return self.jid.partition("@")[0]

    @property
    def domain(self) -> str:
        return self.jid.partition("@")[2].partition("/")[0]


@dataclass
class Target:
    """Everything a case may know about the server it judges."""

    host: str
    port: int
    domain: str
    tls: TlsPolicy = "starttls"
    verify_tls: bool = False
    accounts: list[Account] = field(default_factory=list)
    register: bool = False
    admin: Account | None = None
    bosh_url: str | None = None
    websocket_url: str | None = None
    component_port: int | None = None
    component_secret: str | None = None
    name: str = ""
    deviations: str | None = None  # name of compat_tests/deviations/<name>.toml, or a path

    def __post_init__(self) -> None:
        if self.tls not in TLS_POLICIES:
            raise TargetError(f"tls must be one of {', '.join(TLS_POLICIES)}, not {self.tls!r}")
        if not self.domain:
            raise TargetError("the XMPP domain is required")
        if not 0 < int(self.port) < 65536:
            raise TargetError(f"port {self.port} is out of range")
        if not self.name:
            self.name = self.domain

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description, without passwords."""
        data = asdict(self)
        data["accounts"] = [a.jid for a in self.accounts]
        data["admin"] = self.admin.jid if self.admin else None
        data.pop("component_secret", None)
        return data


def parse_account(value: Any) -> Account:
    """``"jid:password"``, ``["jid", "password"]`` or ``{jid = ..., password = ...}`` → Account."""
    if isinstance(value, Account):
        return value
    if isinstance(value, str):
        jid, sep, password = value.partition(":")
        if not sep:
            raise TargetError(f"account {value!r} must be written as jid:password")
        return Account(jid, password)
    if isinstance(value, list | tuple) and len(value) == 2:
        return Account(str(value[0]), str(value[1]))
    if isinstance(value, dict) and "jid" in value and "password" in value:
        return Account(str(value["jid"]), str(value["password"]))
    raise TargetError(f"cannot read an account from {value!r}")


def from_mapping(data: dict[str, Any]) -> Target:
    """Build a Target from a TOML table (the keys are the dataclass field names)."""
    known = set(Target.__dataclass_fields__)
    unknown = set(data) - known
    if unknown:
        raise TargetError(f"unknown target keys: {', '.join(sorted(unknown))}")
    for key in ("host", "port", "domain"):
        if key not in data:
            raise TargetError(f"target needs {key!r}")
    values = dict(data)
    values["accounts"] = [parse_account(a) for a in data.get("accounts", [])]
    if data.get("admin") is not None:
        values["admin"] = parse_account(data["admin"])
    values["port"] = int(data["port"])
    return Target(**values)


def load_target(path: Path) -> Target:
    """Read a target TOML file: the keys at the top level or under a ``[target]`` table."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except OSError as exc:
        raise TargetError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise TargetError(f"{path}: {exc}") from None
    return from_mapping(data.get("target", data))


def dump_target(target: Target) -> str:
    """The TOML text :func:`load_target` reads back (used to hand a target to a pytest subprocess)."""
    lines = []
    for key, value in asdict(target).items():
        if value is None:
            continue
        if key == "accounts":
            items = ", ".join(_toml_account(Account(**a)) for a in value)
            lines.append(f"accounts = [{items}]")
        elif key == "admin":
            lines.append(f"admin = {_toml_account(Account(**value))}")
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_account(account: Account) -> str:
    return f"{{ jid = {_toml_value(account.jid)}, password = {_toml_value(account.password)} }}"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
