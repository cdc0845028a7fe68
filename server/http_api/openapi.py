"""The OpenAPI 3.1 document of /api/v1, generated from the same route table the router mounts."""

from __future__ import annotations

from typing import Any

from tigase_py.server import __version__
from tigase_py.server.http_api.table import ERROR, Route, Schema

SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}, {"bearer": []}, {"basic": []}]
DESCRIPTION = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "Invalid request",
    401: "Authentication required",
    403: "Not an administrator, or the API key lacks the scope",
    404: "Not found",
    409: "Conflict",
    429: "Too many failed logins from this address (see Retry-After)",
    500: "The command failed",
    503: "Not available",
}


def _json(schema: Schema) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def operation(route: Route) -> dict[str, Any]:
    responses = dict(route.responses)
    if route.body is not None or route.query:
        responses.setdefault(400, ERROR)
    if route.auth:
        responses.setdefault(401, ERROR)
        responses.setdefault(403, ERROR)
        responses.setdefault(429, ERROR)
    op: dict[str, Any] = {
        "operationId": route.operation_id,
        "summary": route.summary,
        "tags": [route.tag],
        "responses": {
            str(status): {"description": DESCRIPTION.get(status, "Response"), **_json(schema)}
            for status, schema in sorted(responses.items())
        },
    }
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1},
            "description": route.path_docs.get(name, name),
        }
        for name in route.path_params
    ]
    parameters += [
        {
            "name": q.name,
            "in": "query",
            "required": q.required,
            "schema": {"type": "string"},
            "description": q.description,
        }
        for q in route.query
    ]
    if parameters:
        op["parameters"] = parameters
    if route.body is not None:
        op["requestBody"] = {"required": True, **_json(route.body)}
    op["security"] = SECURITY if route.auth else []
    if route.auth:
        op["x-scope"] = route.needs  # the API key scope this operation needs
    return op


def document(routes: list[Route]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.openapi_path, {})[route.method.lower()] = operation(route)
    return {
        "openapi": "3.1.0",
        "info": {"title": "tigase-py admin API", "version": __version__},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic", "description": "an administrator's JID and password"},
            }
        },
    }
