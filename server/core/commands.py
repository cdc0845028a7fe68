"""The names admin scripts and the ad-hoc module use for the admin layer (:mod:`tigase_py.server.admin`):
``Command`` is an :class:`~tigase_py.server.admin.operation.Operation`, ``CommandResult`` a ``Result``.

    # scripts/greet.py
    from tigase_py.server.core.commands import Command, CommandResult, Param

    async def run(ctx, args):            # ctx: who calls (ctx.caller), where (ctx.vhost), ctx.deps
        return CommandResult(note=f"hello {ctx.caller}")

    command = Command(name="greet", title="Greet", description="Say hello", run=run)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tigase_py.server.admin.operation import PARAM_TYPES, TRUSTED_CALLERS, Call, Param
from tigase_py.server.admin.operation import AdminError as CommandError
from tigase_py.server.admin.operation import Operation as Command
from tigase_py.server.admin.operation import Registry as CommandRegistry
from tigase_py.server.admin.operation import Result as CommandResult

if TYPE_CHECKING:
    from tigase_py.server.core.server import Server


class CommandContext(Call):
    """The call of ``caller`` on the running ``server`` (addressed to ``vhost``)."""

    __slots__ = ()

    def __init__(self, server: Server, caller: str, vhost: str | None) -> None:
        from tigase_py.server.admin.live import deps_of

        super().__init__(deps_of(server), caller, vhost)


__all__ = [
    "PARAM_TYPES",
    "TRUSTED_CALLERS",
    "Call",
    "Command",
    "CommandContext",
    "CommandError",
    "CommandRegistry",
    "CommandResult",
    "Param",
]
