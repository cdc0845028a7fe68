"""``tigase-py stats``: every metric of a running server, read over its REST API."""

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


def filter_prometheus(text: str, pattern: str | None) -> str:
    """Keep the samples (and their HELP/TYPE lines) whose metric name matches the glob."""
    if not pattern:
        return text
    kept = [
        line for line in text.splitlines()
        if line.strip() == "# EOF" or fnmatch.fnmatchcase(_prometheus_name(line).lower(), pattern.lower())
    ]  # fmt: skip
    return "\n".join(kept) + "\n"


def stats(
    pattern: Annotated[str | None, typer.Option("--filter", help="Glob over metric names, e.g. 'c2s/*'.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    prometheus: Annotated[bool, typer.Option("--prometheus", help="The /metrics text exposition.")] = False,
    host: Host = None,
    http_url: HttpUrl = None,
    api_key: ApiKey = None,
    user: User = None,
    password: Password = None,
    timeout: Timeout = 5.0,
) -> None:
    """Server metrics (component/Metric name[labels] = value) over HTTP."""
    from tigase_py.monitoring import http, model

    if as_json and prometheus:
        raise errors.UsageError("choose one of --json and --prometheus")
    target = http_target(config_defaults(), host, http_url, api_key, user, password)
    if not target.has_credentials and not prometheus:
        raise errors.UsageError("stats needs --api-key (or TIGASE_PY_API_KEY) or --user/--password")
    try:
        if prometheus:
            text = asyncio.run(http.fetch_prometheus(target, timeout))
            console.result(filter_prometheus(text, pattern).rstrip("\n"))
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
