"""Virtual hosts added at run time: add, remove, list. The vhosts of ``[server] vhosts`` are listed too
but removed only by editing the config. Serving or dropping a vhost fires ``vhost.added``/``vhost.removed``."""

from __future__ import annotations

from typing import Any

from tigase_py.server.admin.args import domain
from tigase_py.server.admin.operation import AdminError, Call, Operation, Param, Rest, Result

DOMAIN = Param("domain", "text-single", "Domain", required=True, rest="vhost", positional=True)
VHOSTS = {
    "type": "object",
    "required": ["vhosts"],
    "properties": {"vhosts": {"type": "array", "items": {"type": "string"}}},
}


async def add_vhost(call: Call, args: dict[str, Any]) -> Result:
    name = domain(args["domain"])
    if name in call.deps.served():
        raise AdminError(f"{name} is already served", "conflict")
    stored = await call.deps.stored_vhosts.add(name)
    if not (await call.deps.serve(name) or stored):
        raise AdminError(f"{name} is already served", "conflict")
    return Result(f"Virtual host {name} added", values={"vhost": name})


async def remove_vhost(call: Call, args: dict[str, Any]) -> Result:
    name = domain(args["domain"])
    if name in call.deps.configured_vhosts:
        raise AdminError(
            f"{name} is configured in the config file; remove it there",
            "not-allowed",
            hint="remove it from [server] vhosts there instead",
        )
    stored = await call.deps.stored_vhosts.remove(name)
    if not (await call.deps.unserve(name) or stored):
        raise AdminError(f"no such vhost: {name}", "item-not-found")
    return Result(f"Virtual host {name} removed", values={"vhost": name})


async def list_vhosts(call: Call, args: dict[str, Any]) -> Result:
    configured = call.deps.configured_vhosts
    others = sorted((call.deps.served() | set(await call.deps.stored_vhosts.list())) - set(configured))
    rows = [{"name": name, "source": "config"} for name in configured]
    rows += [{"name": name, "source": "storage"} for name in others]
    return Result(f"{len(rows)} virtual host(s)", values={"vhosts": sorted(call.deps.served())}, rows=rows)


def operations() -> list[Operation]:
    return [
        Operation(
            "add-vhost", "Add a Virtual Host", "Serve a new domain", add_vhost, (DOMAIN,), returns=("vhost",),
            rest=Rest("POST", "/api/v1/vhosts", "addVhost", "vhosts", 201, json={"vhost": "Domain"}),
        ),
        Operation(
            "remove-vhost", "Remove a Virtual Host", "Stop serving a domain added at run time", remove_vhost,
            (DOMAIN,), returns=("vhost",),
            rest=Rest("DELETE", "/api/v1/vhosts/{vhost}", "removeVhost", "vhosts",
                      errors={"not-allowed": 409, "jid-malformed": 404}),
        ),
        Operation(
            "list-vhosts", "List Virtual Hosts", "Served domains, from the config file and added at run time",
            list_vhosts, scope="read", returns=("vhosts",), columns=("name", "source"),
            rest=Rest("GET", "/api/v1/vhosts", "listVhosts", "vhosts", response=VHOSTS,
                      answer=lambda result: {"vhosts": result.values["vhosts"]}),
        ),
    ]  # fmt: skip
