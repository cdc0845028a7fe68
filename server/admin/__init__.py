"""The admin layer: each admin operation defined once (:mod:`.operation`), on narrow dependencies
(:mod:`.deps`), and offered through three doors — REST (``server/http_api``), XEP-0050/XEP-0133 ad-hoc
commands (``server/modules/adhoc``) and the CLI (``cli/admin_door.py``: through the running server's
admin socket, or on config + storage when it does not run).

A new feature adds its operations with one declaration each and registers them with the server's
registry (``server.commands.register(op)``); all three doors see them at once.
"""

from __future__ import annotations

from collections.abc import Callable

from tigase_py.server.admin import messages, sessions, statistics, users, vhosts
from tigase_py.server.admin.operation import Operation, Registry


def builtin_operations() -> list[Operation]:
    return [
        *users.operations(),
        *sessions.operations(),
        *messages.operations(),
        *vhosts.operations(),
        *statistics.operations(),
    ]


def register_builtins(registry: Registry) -> list[Callable[[], None]]:
    """Register every builtin operation; return the undo callables."""
    return [registry.register(operation) for operation in builtin_operations()]
