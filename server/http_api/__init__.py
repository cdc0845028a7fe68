"""The admin REST API: route table, authentication, endpoints and the OpenAPI document."""

from __future__ import annotations

from aiohttp import web

from tigase_py.server.http_api import commands, operations, rest
from tigase_py.server.http_api.openapi import document
from tigase_py.server.http_api.table import Route, reply

OPENAPI_PATH = "/api/v1/openapi.json"


async def openapi(request: web.Request) -> web.Response:
    return reply(document(all_routes(), rest.server_of(request).commands.all()))


def all_routes() -> list[Route]:
    """Every /api/v1 endpoint, in the order the router mounts them and the document lists them."""
    return [
        *rest.routes(),
        *operations.routes(),
        *commands.routes(),
        Route(
            "GET",
            OPENAPI_PATH,
            openapi,
            "openapi",
            "This OpenAPI document",
            "status",
            {200: {"type": "object"}},
            auth=False,
        ),
    ]
