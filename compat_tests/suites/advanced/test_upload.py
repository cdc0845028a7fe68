"""XEP-0363 HTTP File Upload: discovering the upload service, requesting a slot, the size limit."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tigase_py.compat_tests.case import describe, disco_info, not_supported, spec
from tigase_py.compat_tests.client import WireClient, logged_in, stanza_error
from tigase_py.compat_tests.suites.advanced.helpers import DATA, UPLOAD, find_service, set_iq
from tigase_py.compat_tests.target import Account, Target

CATEGORY = ("Advanced IM", "Advanced Mobile")


def slot_request(name: str, size: int) -> str:
    return f"<request xmlns='{UPLOAD}' filename='{name}' size='{size}' content-type='text/plain'/>"


async def max_size(client: WireClient, service: str) -> int | None:
    """The max-file-size the service announces in its disco#info form, if any."""
    query = await disco_info(client, service)
    if query is None:
        return None
    for form in query.findall(f"{{{DATA}}}x"):
        values = {f.get("var"): f.findtext(f"{{{DATA}}}value") for f in form.findall(f"{{{DATA}}}field")}
        if values.get("FORM_TYPE") == UPLOAD and (values.get("max-file-size") or "").isdigit():
            return int(values["max-file-size"] or 0)
    return None


def urls(reply: ET.Element) -> tuple[str | None, str | None]:
    slot = reply.find(f"{{{UPLOAD}}}slot")
    if slot is None:
        return None, None
    put, get = slot.find(f"{{{UPLOAD}}}put"), slot.find(f"{{{UPLOAD}}}get")
    return (None if put is None else put.get("url")), (None if get is None else get.get("url"))


@spec("XEP-0363", "4", category=CATEGORY)
async def test_request_slot(target: Target, accounts: list[Account]) -> None:
    """A slot request for a small file returns a slot with a put and a get URL."""
    async with logged_in(target, accounts[0]) as alice:
        service = await find_service(alice, UPLOAD)
        reply = await set_iq(alice, service, slot_request("compat.txt", 12), "get")
        assert reply.get("type") == "result", describe(reply)
        put, get = urls(reply)
        assert put and get, describe(reply)
        assert put.startswith(("https://", "http://")) and get.startswith(("https://", "http://")), describe(reply)


@spec("XEP-0363", "5", category=CATEGORY)
async def test_file_too_large(target: Target, accounts: list[Account]) -> None:
    """A request above the announced max-file-size is refused with <not-acceptable/> (file-too-large)."""
    async with logged_in(target, accounts[0]) as alice:
        service = await find_service(alice, UPLOAD)
        limit = await max_size(alice, service)
        if limit is None:
            raise not_supported(f"{service} announces no max-file-size")
        reply = await set_iq(alice, service, slot_request("huge.bin", limit + 1), "get")
        assert reply.get("type") == "error", describe(reply)
        assert stanza_error(reply) == "not-acceptable", describe(reply)
