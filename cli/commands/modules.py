"""``tigase-py modules list``: the built-in modules and those installed by other distributions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from tigase_py.cli import console, errors

if TYPE_CHECKING:
    from tigase_py.server.core.module import Spec
    from tigase_py.server.core.module_names import Available

app = typer.Typer(no_args_is_help=True, help="List the modules [modules] enabled can name.")


def spec_text(spec: Spec) -> str:
    parts = [spec.name]
    if spec.version:
        parts.append(spec.version)
    if spec.section:
        parts.append(f"§{spec.section}")
    if spec.status != "complete":
        parts.append(f"({spec.status})")
    return " ".join(parts)


def as_dict(item: Available) -> dict[str, Any]:
    module = item.module
    return {
        "name": item.name,
        "origin": item.origin,
        "source": item.source,
        "loadable": module is not None and not item.error,
        "error": item.error or None,
        "specs": [
            {"name": s.name, "version": s.version, "section": s.section, "status": s.status}
            for s in (module.specs if module else ())
        ],
        "depends": list(module.depends) if module else [],
    }


@app.command("list")
def list_modules(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")] = False,
) -> None:
    """Built-in modules, then third-party ones (entry point group tigase_py.modules); exit 1 if one fails to load."""
    from tigase_py.server.core import module_names

    found = module_names.available()
    broken = [item for item in found if item.module is None]
    if as_json:
        console.emit_json({"entry_point_group": module_names.ENTRY_POINT_GROUP, "modules": [as_dict(i) for i in found]})
    else:
        console.table(
            ("module", "from", "specs", "note"),
            [
                (
                    item.name,
                    item.origin,
                    ", ".join(spec_text(s) for s in item.module.specs) if item.module else "-",
                    item.error or "",
                )
                for item in found
            ],
        )
    if broken:
        names = ", ".join(item.name for item in broken)
        raise errors.CliError(f"{len(broken)} module(s) failed to load: {names}")
