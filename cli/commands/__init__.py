"""One typer sub-application per file."""
