"""`tigase-py doctor [CHECK...]`: run named checks of the config and the host; exit 1 on any problem.

The table goes to stdout (or one JSON document with --json); each problem is also one line on stderr.
"""

from __future__ import annotations

from typing import Annotated

import typer

from tigase_py.cli import console, context, errors

STATUS_LABELS = {"ok": "ok", "warning": "WARNING", "problem": "PROBLEM", "skipped": "skipped"}


def doctor(
    checks: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="CHECK",
            help="Checks to run (default: all): open-files, certificates, database, ports, permissions, clock.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
) -> None:
    """Check the config and the host: open files, certificates, database, ports, permissions, clock."""
    from tigase_py.server import doctor as checks_module

    config = context.load()
    try:
        report = checks_module.run(config, checks or ())
    except checks_module.UnknownCheck as exc:
        raise errors.UsageError(str(exc)) from None
    if as_json:
        console.emit_json(report.to_json())
    else:
        rows = [(f.check, STATUS_LABELS[f.status], f.subject, f.detail) for f in report.findings]
        console.table(("check", "status", "subject", "detail"), rows)
    for finding in report.problems:
        console.error(finding.line())
    raise typer.Exit(report.exit_code)
