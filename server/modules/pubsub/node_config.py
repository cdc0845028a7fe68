"""Node configuration (XEP-0060 section 16.4 ``pubsub#node_config``): the supported subset, its forms.

A node's configuration is a dict of the options below, stored as JSON by the pubsub store; fields of
a submitted form that are not listed here are refused with not-acceptable.
"""

from __future__ import annotations

from typing import Any

from tigase_py.server.errors import StanzaError
from tigase_py.server.modules.pubsub.errors import pubsub_error
from tigase_py.server.xml.forms import Field, Form, FormError, parse_bool

NS_NODE_CONFIG = "http://jabber.org/protocol/pubsub#node_config"
NS_META_DATA = "http://jabber.org/protocol/pubsub#meta-data"
NS_PUBLISH_OPTIONS = "http://jabber.org/protocol/pubsub#publish-options"
ACCESS_MODELS = ("open", "authorize", "whitelist")
PUBLISH_MODELS = ("publishers", "subscribers", "open")
MAX_ITEMS_LIMIT = 10_000
BOOLEANS = ("persist_items", "deliver_payloads", "notify_retract", "notify_delete", "notify_config")

DEFAULTS: dict[str, Any] = {
    "title": "",
    "access_model": "open",
    "publish_model": "publishers",
    "max_items": 10,
    "persist_items": True,
    "deliver_payloads": True,
    "notify_retract": True,
    "notify_delete": True,
    "notify_config": False,
}


def with_defaults(config: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS, **config}


def _max_items(text: str) -> int:
    if text == "max":
        return MAX_ITEMS_LIMIT
    if not text.isdigit() or not 0 < int(text) <= MAX_ITEMS_LIMIT:
        raise ValueError(f"max_items must be 1..{MAX_ITEMS_LIMIT} or max")
    return int(text)


def apply_form(config: dict[str, Any], form: Form, form_type: str = NS_NODE_CONFIG) -> dict[str, Any]:
    """``config`` changed by a submitted form; StanzaError not-acceptable when a field is unknown or wrong."""
    if form.form_type not in (None, form_type):
        raise StanzaError("not-acceptable", f"expected a {form_type} form")
    changed = dict(config)
    for item in form.fields:
        if not item.var or item.var == "FORM_TYPE" or item.type == "fixed":
            continue
        key = item.var.removeprefix("pubsub#")
        text = item.values[0].strip() if item.values else ""
        try:
            if key == "access_model":
                if text not in ACCESS_MODELS:
                    raise pubsub_error("not-acceptable", "unsupported-access-model", f"access model {text!r}")
                changed[key] = text
            elif key == "publish_model":
                if text not in PUBLISH_MODELS:
                    raise ValueError(f"publish_model must be one of {', '.join(PUBLISH_MODELS)}")
                changed[key] = text
            elif key == "max_items":
                changed[key] = _max_items(text)
            elif key in BOOLEANS:
                changed[key] = parse_bool(text)
            elif key == "title":
                changed[key] = text[:255]
            else:
                raise ValueError(f"unsupported option {item.var}")
        except (ValueError, FormError) as exc:
            raise StanzaError("not-acceptable", str(exc)) from exc
    return changed


def _bool(value: object) -> str:
    return "1" if value else "0"


def config_form(config: dict[str, Any], form_type: str = "form") -> Form:
    """The node_config form with the node's current values (``form_type`` "form" for the owner)."""
    full = with_defaults(config)
    return Form(
        form_type,
        fields=[
            Field("FORM_TYPE", "hidden", values=[NS_NODE_CONFIG]),
            Field("pubsub#title", "text-single", "A friendly name for the node", [full["title"]]),
            Field(
                "pubsub#access_model",
                "list-single",
                "Who may subscribe and retrieve items",
                [full["access_model"]],
                options=[(m, m) for m in ACCESS_MODELS],
            ),
            Field(
                "pubsub#publish_model",
                "list-single",
                "Who may publish",
                [full["publish_model"]],
                options=[(m, m) for m in PUBLISH_MODELS],
            ),
            Field("pubsub#max_items", "text-single", "Items kept", [str(full["max_items"])]),
            *(Field(f"pubsub#{key}", "boolean", key.replace("_", " "), [_bool(full[key])]) for key in BOOLEANS),
        ],
    )


def meta_data_form(config: dict[str, Any], owner: str) -> Form:
    """The XEP-0060 5.4 ``pubsub#meta-data`` extension of a node's disco#info."""
    full = with_defaults(config)
    return Form(
        "result",
        fields=[
            Field("FORM_TYPE", "hidden", values=[NS_META_DATA]),
            Field("pubsub#title", "text-single", values=[full["title"]]),
            Field("pubsub#owner", "jid-multi", values=[owner]),
            Field("pubsub#access_model", "list-single", values=[full["access_model"]]),
            Field("pubsub#publish_model", "list-single", values=[full["publish_model"]]),
            Field("pubsub#max_items", "text-single", values=[str(full["max_items"])]),
            Field("pubsub#persist_items", "boolean", values=[_bool(full["persist_items"])]),
            Field("pubsub#deliver_payloads", "boolean", values=[_bool(full["deliver_payloads"])]),
        ],
    )


def check_preconditions(config: dict[str, Any], form: Form) -> None:
    """XEP-0060 7.1.5: every publish-option must equal the node's value, else conflict precondition-not-met."""
    try:
        wanted = apply_form(with_defaults(config), form, NS_PUBLISH_OPTIONS)
    except StanzaError as exc:
        raise pubsub_error("conflict", "precondition-not-met", exc.text) from exc
    for item in form.fields:
        key = item.var.removeprefix("pubsub#")
        if key in DEFAULTS and wanted[key] != with_defaults(config)[key]:
            raise pubsub_error("conflict", "precondition-not-met", f"node option {key} differs")
