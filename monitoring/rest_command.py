"""Run one admin command of a running server over its REST API (``POST /api/v1/commands/<name>``).

Used by CLI commands whose state lives only in the server's memory (the login lockouts), so they need
the server up and an API key with the ``admin`` scope (or an admin JID and password).
"""

from __future__ import annotations

from typing import Any

import aiohttp

from tigase_py.monitoring import model
from tigase_py.monitoring.http import HttpTarget

COMMANDS_PATH = "/api/v1/commands/"


async def _error_text(response: aiohttp.ClientResponse) -> str:
    try:
        document = await response.json(content_type=None)
    except (ValueError, aiohttp.ClientError):
        return response.reason or ""
    return str(document.get("error", "")) if isinstance(document, dict) else ""


async def run_command(target: HttpTarget, name: str, args: dict[str, Any], timeout: float = 5.0) -> dict[str, Any]:
    """The command's result document (``note``, ``values``, ``rows``); raise ``ProbeFailure`` otherwise."""
    url = target.url.rstrip("/") + COMMANDS_PATH + name
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            async with session.post(url, json=args, headers=target.headers(), auth=target.auth()) as response:
                if response.status in (401, 403, 429):
                    raise model.ProbeFailure("auth", f"http: {response.status} {await _error_text(response)}")
                if response.status >= 400:
                    raise model.ProbeFailure("error", f"http: {name}: {await _error_text(response)}")
                document = await response.json(content_type=None)
    except aiohttp.InvalidURL as exc:
        raise model.ProbeFailure("error", f"http: invalid URL {target.url!r}") from exc
    except (aiohttp.ClientConnectorError, TimeoutError) as exc:
        raise model.ProbeFailure("unreachable", f"http: cannot reach the server at {target.url}") from exc
    except (aiohttp.ClientError, ValueError) as exc:
        raise model.ProbeFailure("error", f"http: {url}: {exc or type(exc).__name__}") from exc
    if not isinstance(document, dict):
        raise model.ProbeFailure("error", f"http: {url} did not answer a JSON object")
    return document
