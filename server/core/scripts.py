"""Runtime admin scripts: each ``*.py`` in ``[http] scripts_dir`` defines ``command = Command(...)`` and
becomes an admin command (REST and XEP-0050) without a restart.

The folder is scanned every two seconds and after every upload. A new or changed file is (re)loaded
into its own module name, a deleted file's command is unregistered. A script that fails to import, or
lacks ``command``, is reported with a one-line error and does not register anything; a script whose
``run`` raises answers the caller with ``internal-server-error`` naming the script and the exception.

    # scripts/greet.py
    from tigase_py.server.core.commands import Command, CommandResult

    async def run(ctx, args):
        return CommandResult(note=f"hello {ctx.caller}")

    command = Command(name="greet", title="Greet", description="Say hello", run=run)
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import importlib.util
import itertools
import logging
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tigase_py.server.core.commands import Call, Command, CommandError, CommandResult

if TYPE_CHECKING:
    from tigase_py.server.core.server import Server

log = logging.getLogger("tigase_py.scripts")

SCAN_SECONDS = 2.0
MODULE_PREFIX = "tigase_py_admin_scripts"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\.py$")
_counter = itertools.count(1)


class ScriptError(Exception):
    """A script could not be written or removed (bad name, missing file)."""


@dataclass(slots=True)
class Script:
    file: str
    digest: str
    command: str | None = None
    error: str | None = None
    undo: Callable[[], None] | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"file": self.file, "loaded": self.error is None}
        if self.command is not None:
            data["command"] = self.command
        if self.error is not None:
            data["error"] = self.error
        return data


def one_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".splitlines()
    return text[0] if text else type(exc).__name__


def guarded(command: Command, file: str) -> Command:
    """``command`` with source ``script:<file>`` whose failures become a clear command error."""
    inner = command.run

    async def run(ctx: Call, args: dict[str, Any]) -> CommandResult:
        try:
            result = await inner(ctx, args)
        except CommandError:
            raise
        except Exception as exc:
            log.warning("script_failed file=%s command=%s reason=%s", file, command.name, one_line(exc))
            raise CommandError(f"script {file} failed: {one_line(exc)}", "internal-server-error") from exc
        if not isinstance(result, CommandResult):
            raise CommandError(
                f"script {file} returned {type(result).__name__}, not CommandResult", "internal-server-error"
            )
        return result

    return dataclasses.replace(command, run=run, source=f"script:{file}")


class ScriptManager:
    def __init__(self, server: Server, directory: Path | None) -> None:
        self.server = server
        self.directory = directory
        self.scripts: dict[str, Script] = {}
        self._lock = asyncio.Lock()

    def status(self) -> list[dict[str, Any]]:
        return [self.scripts[name].to_json() for name in sorted(self.scripts)]

    async def scan(self) -> None:
        async with self._lock:
            self._scan()

    def _scan(self) -> None:
        found: dict[str, bytes] = {}
        if self.directory is not None and self.directory.is_dir():
            for path in sorted(self.directory.glob("*.py")):
                if NAME.match(path.name):
                    try:
                        found[path.name] = path.read_bytes()
                    except OSError as exc:
                        log.warning("script_unreadable file=%s reason=%s", path.name, exc)
        for name in list(self.scripts):
            if name not in found:
                self._unload(name)
                log.info("script_removed file=%s", name)
        for name, source in found.items():
            digest = hashlib.sha256(source).hexdigest()
            current = self.scripts.get(name)
            if current is not None and current.digest == digest:
                continue
            if current is not None:
                self._unload(name)
            self.scripts[name] = self._load(name, digest)

    def _unload(self, name: str) -> None:
        script = self.scripts.pop(name, None)
        if script is not None and script.undo is not None:
            script.undo()

    def _load(self, name: str, digest: str) -> Script:
        assert self.directory is not None
        script = Script(name, digest)
        module_name = f"{MODULE_PREFIX}.{name[:-3].replace('-', '_')}_{next(_counter)}"
        try:
            spec = importlib.util.spec_from_file_location(module_name, self.directory / name)
            if spec is None or spec.loader is None:
                raise ImportError("cannot build an import spec")
            module = importlib.util.module_from_spec(spec)
            try:
                spec.loader.exec_module(module)
            finally:
                sys.modules.pop(module_name, None)
            command = getattr(module, "command", None)
            if not isinstance(command, Command):
                raise TypeError("the script must define `command = Command(...)`")
            script.undo = self.server.commands.register(guarded(command, name))
            script.command = command.name
        except (Exception, SystemExit) as exc:
            script.error = one_line(exc)
            log.error("script_load_failed file=%s reason=%s", name, script.error)
            return script
        log.info("script_loaded file=%s command=%s", name, script.command)
        return script

    def path_of(self, name: str) -> Path:
        if not NAME.match(name):
            raise ScriptError(f"invalid script name {name!r}: use letters, digits, '_' or '-' and end in .py")
        if self.directory is None:
            raise ScriptError("no scripts folder is configured")
        return self.directory / name

    async def write(self, name: str, source: str) -> dict[str, Any]:
        """Write ``name`` with ``source`` and load it now; return its status."""
        path = self.path_of(name)
        async with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_name(f".{name}.tmp")
            temporary.write_text(source, encoding="utf-8")
            temporary.replace(path)
            self._scan()
            return self.scripts[name].to_json()

    async def delete(self, name: str) -> None:
        path = self.path_of(name)
        async with self._lock:
            try:
                path.unlink()
            except FileNotFoundError as exc:
                raise ScriptError(f"no script {name!r}") from exc
            self._scan()

    async def watch(self) -> None:
        """Rescan the folder forever; a failing scan is logged and retried."""
        while True:
            try:
                await self.scan()
            except Exception as exc:
                log.warning("script_scan_failed reason=%s", one_line(exc))
            await asyncio.sleep(SCAN_SECONDS)

    def close(self) -> None:
        for name in list(self.scripts):
            self._unload(name)
