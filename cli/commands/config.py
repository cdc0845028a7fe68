"""``tigase-py config check``: load and validate the config, then summarise it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tigase_py.cli import console, context

app = typer.Typer(no_args_is_help=True, help="Inspect the configuration file.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]


@app.command("check")
def check(
    file: Annotated[Path | None, typer.Argument(help="Config file to check (default: the discovered one).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Load and validate the config file; exit 2 when it is invalid."""
    from tigase_py.server.config import listeners, permissions
    from tigase_py.server.config.errors import ConfigError
    from tigase_py.server.config.load import load_config
    from tigase_py.server.config.types import redact_url

    location = context.locate(file)
    try:
        config = load_config(location.path)
    except ConfigError as exc:
        if as_json:
            console.emit_json(
                {"file": str(location.path), "found_by": location.source, "valid": False, "error": str(exc)}
            )
        raise
    found = listeners.endpoints(config)
    exposed = permissions.exposed(config)
    certificate = str(config.tls.certificate) if config.tls.certificate else None
    summary = {
        "file": str(config.path),
        "found_by": location.source,
        "valid": True,
        "vhosts": list(config.server.vhosts),
        "admins": list(config.server.admins),
        "listeners": [endpoint.as_dict() for endpoint in found],
        "storage": redact_url(config.storage.url),
        "tls": {
            "certificate": certificate,
            "key": str(config.tls.key) if config.tls.key else None,
        },
        "modules": list(config.modules.enabled),
        "permission_warnings": exposed,
    }
    if as_json:
        console.emit_json(summary)
        return
    console.success(f"{config.path} is valid (found by {location.description})")
    console.table(
        ("setting", "value"),
        [
            ("vhosts", ", ".join(config.server.vhosts)),
            ("admins", ", ".join(config.server.admins) or "-"),
            *((f"listener {index}", str(endpoint)) for index, endpoint in enumerate(found)),
            ("storage", redact_url(config.storage.url)),
            ("certificate", certificate or "-"),
            ("modules", ", ".join(config.modules.enabled) or "-"),
        ],
    )
    for warning in exposed:
        console.warning(warning)
