"""Run the real ``tigase-py`` CLI as a subprocess from a test whose event loop also runs the server."""

from __future__ import annotations

import asyncio
import os
import subprocess

from tests.helpers import cli_command

TIMEOUT = 60.0


async def cli(*args: str | os.PathLike[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    full_env.pop("TIGASE_PY_CONFIG", None)
    process = await asyncio.create_subprocess_exec(
        *cli_command(), *(os.fspath(a) for a in args), env=full_env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    argv = [os.fspath(a) for a in args]
    return subprocess.CompletedProcess(argv, process.returncode or 0, out.decode(), err.decode())


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The single ``error: ...`` line a failing command printed (asserts there is exactly one)."""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]
