"""``tigase-py stats``: every metric of a running server, read over its admin socket (on its host) or REST API."""

from __future__ import annotations

import asyncio
import fnmatch
from typing import Annotated

import typer

from tigase_py.cli import console, errors
from tigase_py.cli.commands.status import ApiKey, Host, HttpUrl, Password, Timeout, User, config_defaults, http_target


def _raise(exc: Exception) -> None:
    from tigase_py.monitoring.model import ProbeFailure

    if isinstance(exc, ProbeFailure):
        if exc.kind == "unreachable":
            raise errors.Unreachable(str(exc)) from None
        raise errors.CliError(str(exc)) from None
    raise exc


def _prometheus_name(line: str) -> str:
    if line.startswith("#"):
        parts = line.split()
        return parts[2] if len(parts) > 2 else ""
    return line.split("{", 1)[0].split(" ", 1)[0]


def _display_name(help_line: str) -> str:
    """The Tigase-style name a HELP line starts with (``# HELP tigasepy_x c2s/Name: description``)."""
    parts = help_line.split(None, 3)
    text = parts[3] if len(parts) > 3 else ""
    return text.split(": ", 1)[0] if "/" in text.split(": ", 1)[0] else ""


def _families(text: str) -> list[tuple[list[str], list[str]]]:
    """The exposition split into families: (names to match, lines), in order."""
    families: list[tuple[list[str], list[str]]] = []
    current = ""
    for line in text.splitlines():
        if not line.strip() or line.strip() == "# EOF":
            continue
        name = _prometheus_name(line)
        is_meta = line.startswith("# HELP ") or line.startswith("# TYPE ")
        if not families or (is_meta and name != current) or (not is_meta and not name.startswith(current)):
            current = name
            families.append(([name], []))
        names, lines = families[-1]
        if line.startswith("# HELP ") and (display := _display_name(line)):
            names.append(display)
        elif not line.startswith("#"):
            names.append(name)
        lines.append(line)
    return families


def filter_prometheus(text: str, pattern: str | None) -> str:
    """Keep the families (samples with their HELP/TYPE lines) matching the glob by their Prometheus name,
    a sample name, or the Tigase-style name (``c2s/*``) their HELP text starts with; "" when none match."""
    if not pattern:
        return text
    glob = pattern.lower()
    kept = [
        line
        for names, lines in _families(text)
        if any(fnmatch.fnmatchcase(name.lower(), glob) for name in names)
        for line in lines
    ]
    if not kept:
        return ""
    eof = ["# EOF"] if any(line.strip() == "# EOF" for line in text.splitlines()) else []
    return "\n".join(kept + eof) + "\n"


def stats(
    pattern: Annotated[
        str | None,
        typer.Option(
            "--filter",
            help="Glob over metric names, case-insensitive: Tigase-style ('c2s/*'); with --prometheus also "
            "Prometheus names ('tigasepy_c2s_*').",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    prometheus: Annotated[bool, typer.Option("--prometheus", help="The /metrics text exposition.")] = False,
    host: Host = None,
    http_url: HttpUrl = None,
    api_key: ApiKey = None,
    user: User = None,
    password: Password = None,
    timeout: Timeout = 5.0,
) -> None:
    """Server metrics, one row per Tigase-style name and labels, over the admin socket or HTTP."""
    from tigase_py.monitoring import http, model

    if as_json and prometheus:
        raise errors.UsageError("choose one of --json and --prometheus")
    target = http_target(config_defaults(remote=bool(host or http_url)), host, http_url, api_key, user, password)
    if not target.has_credentials and not prometheus:
        raise errors.UsageError(
            "stats needs --api-key (or TIGASE_PY_API_KEY) or --user/--password",
            hint="on the server's host, run it with the server's config and it uses the admin socket instead",
        )
    try:
        if prometheus:
            text = asyncio.run(http.fetch_prometheus(target, timeout))
            kept = filter_prometheus(text, pattern)
            if not kept:
                raise errors.CliError(f"no metric matches {pattern!r} (by Tigase-style or Prometheus name)")
            console.result(kept.rstrip("\n"))
            return
        document = asyncio.run(http.fetch_stats(target, timeout))
    except model.ProbeFailure as exc:
        _raise(exc)
        return
    raw = document.get("metrics")
    metrics = model.select(raw if isinstance(raw, dict) else {}, pattern)
    if as_json:
        console.emit_json({"version": document.get("version"), "uptime_seconds": document.get("uptime_seconds"),
                           "metrics": metrics})  # fmt: skip
        return
    if not metrics:
        raise errors.CliError(f"no metric matches {pattern!r}" if pattern else "the server reported no metrics")
    console.table(["metric", "value"], sorted(metrics.items()), title=f"tigase-py {document.get('version', '')}")
