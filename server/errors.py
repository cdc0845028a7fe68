"""Stream and stanza errors (RFC 6120 4.9 and 8.3), turned into wire XML in one place."""

from __future__ import annotations

from tigase_py.server.xml import ns
from tigase_py.server.xml.element import Element

STREAM_CONDITIONS = frozenset(
    {
        "bad-format",
        "bad-namespace-prefix",
        "conflict",
        "connection-timeout",
        "host-gone",
        "host-unknown",
        "improper-addressing",
        "internal-server-error",
        "invalid-from",
        "invalid-namespace",
        "invalid-xml",
        "not-authorized",
        "not-well-formed",
        "policy-violation",
        "remote-connection-failed",
        "reset",
        "resource-constraint",
        "restricted-xml",
        "see-other-host",
        "system-shutdown",
        "undefined-condition",
        "unsupported-encoding",
        "unsupported-feature",
        "unsupported-stanza-type",
        "unsupported-version",
    }
)

# RFC 6120 8.3.3: the error type each defined condition usually carries.
STANZA_ERROR_TYPES: dict[str, str] = {
    "bad-request": "modify",
    "conflict": "cancel",
    "feature-not-implemented": "cancel",
    "forbidden": "auth",
    "gone": "cancel",
    "internal-server-error": "cancel",
    "item-not-found": "cancel",
    "jid-malformed": "modify",
    "not-acceptable": "modify",
    "not-allowed": "cancel",
    "not-authorized": "auth",
    "policy-violation": "modify",
    "recipient-unavailable": "wait",
    "redirect": "modify",
    "registration-required": "auth",
    "remote-server-not-found": "cancel",
    "remote-server-timeout": "wait",
    "resource-constraint": "wait",
    "service-unavailable": "cancel",
    "subscription-required": "auth",
    "undefined-condition": "cancel",
    "unexpected-request": "wait",
}


class XmppError(Exception):
    """A defined error condition with optional text and application condition, and how it goes on the wire."""

    KIND = ""
    CONDITIONS: frozenset[str] | dict[str, str] = frozenset()
    NAMESPACE = ""

    def __init__(self, condition: str, text: str = "", app_condition: Element | None = None) -> None:
        if condition not in self.CONDITIONS:
            raise ValueError(f"unknown {self.KIND} condition {condition!r}")
        super().__init__(f"{condition}: {text}" if text else condition)
        self.condition = condition
        self.text = text
        self.app_condition = app_condition

    def _fill(self, error: Element) -> Element:
        """Add the condition, text and application condition to the ``error`` element."""
        error.add(self.condition, ns=self.NAMESPACE)
        if self.text:
            error.add("text", {"xml:lang": "en"}, ns=self.NAMESPACE, text=self.text)
        if self.app_condition is not None:
            error.append(self.app_condition)
        return error


class StreamError(XmppError):
    """Close the stream with this RFC 6120 4.9 condition."""

    KIND = "stream"
    CONDITIONS = STREAM_CONDITIONS
    NAMESPACE = ns.STREAMS_ERR

    def to_element(self) -> Element:
        return self._fill(Element("stream:error"))


class StanzaError(XmppError):
    """Refuse a stanza with this RFC 6120 8.3 condition; the router turns it into an error reply."""

    KIND = "stanza"
    CONDITIONS = STANZA_ERROR_TYPES
    NAMESPACE = ns.STANZAS_ERR

    def __init__(
        self,
        condition: str,
        text: str = "",
        error_type: str | None = None,
        app_condition: Element | None = None,
    ) -> None:
        super().__init__(condition, text, app_condition)
        self.error_type = error_type or STANZA_ERROR_TYPES[condition]

    def to_element(self, by: str | None = None) -> Element:
        error = Element("error", {"type": self.error_type})
        if by:
            error.attrs["by"] = by
        return self._fill(error)


def error_reply(stanza: Element, error: StanzaError, by: str | None = None) -> Element:
    """Build the RFC 6120 8.3.1 error reply to ``stanza``: swapped addresses, original payload kept."""
    attrs = {"type": "error"}
    if "id" in stanza.attrs:
        attrs["id"] = stanza.attrs["id"]
    if "from" in stanza.attrs:
        attrs["to"] = stanza.attrs["from"]
    if "to" in stanza.attrs:
        attrs["from"] = stanza.attrs["to"]
    reply = Element(stanza.tag, attrs)
    reply.ns = stanza.ns
    if stanza.tag != "iq":
        reply.children = [c for c in stanza.children if isinstance(c, Element) and c.name != "error"]
    else:
        first = stanza.first_child()
        if first is not None:
            reply.children.append(first)
    reply.children.append(error.to_element(by))
    return reply
