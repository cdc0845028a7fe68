"""The errors XEP-0060 names: a stanza error condition with a ``pubsub#errors`` application condition."""

from __future__ import annotations

from tigase_py.server.errors import StanzaError
from tigase_py.server.xml.element import Element

NS_ERRORS = "http://jabber.org/protocol/pubsub#errors"


def pubsub_error(condition: str, app: str, text: str = "", **attrs: str) -> StanzaError:
    """``condition`` (RFC 6120) with ``<app xmlns='...pubsub#errors'/>``, e.g. ``nodeid-required``."""
    return StanzaError(condition, text, app_condition=Element(app, dict(attrs), ns=NS_ERRORS))


def unsupported(feature: str, text: str = "") -> StanzaError:
    """feature-not-implemented with ``<unsupported feature='...'/>`` (XEP-0060 section 7 and 8)."""
    text = text or f"{feature} is not supported"
    return pubsub_error("feature-not-implemented", "unsupported", text, feature=feature)


def nodeid_required() -> StanzaError:
    return pubsub_error("not-acceptable", "nodeid-required", "this request needs a node attribute")


def node_not_found(node: str) -> StanzaError:
    return StanzaError("item-not-found", f"no node {node!r}")


def forbidden(text: str) -> StanzaError:
    return StanzaError("forbidden", text)
