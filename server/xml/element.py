"""A small, slotted XML element with a fast serialiser.

Elements keep the qualified tag as written and every attribute (``xmlns`` declarations included),
plus the resolved namespace in ``ns``. Serialising an element therefore reproduces a well-formed
fragment without namespace bookkeeping.

    >>> e = Element("message", {"to": "a@b", "type": "chat"})
    >>> _ = e.add("body", text="hi & bye")
    >>> e.to_str()
    '<message to="a@b" type="chat"><body>hi &amp; bye</body></message>'
"""

from __future__ import annotations

from collections.abc import Iterator

# A parser turns a literal CR in text into LF (XML 1.0 §2.11), and a literal tab, LF or CR in an
# attribute value into a space (§3.3.3); character references keep them as they were received.
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
)


def escape_text(text: str) -> str:
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        return text.translate(_TEXT_ESCAPES)
    return text


def escape_attr(value: str) -> str:
    # Most attribute values (JIDs, ids, types) need no escaping; the membership tests are far
    # cheaper than str.translate with a mapping.
    if "&" in value or "<" in value or ">" in value or '"' in value or "'" in value or not value.isprintable():
        return value.translate(_ATTR_ESCAPES)
    return value


class Element:
    """One XML element: tag, attributes, ordered children (elements or text)."""

    __slots__ = ("tag", "attrs", "children", "ns")

    def __init__(
        self,
        tag: str,
        attrs: dict[str, str] | None = None,
        ns: str | None = None,
        children: list[Element | str] | None = None,
    ) -> None:
        self.tag = tag
        self.attrs: dict[str, str] = attrs if attrs is not None else {}
        if ns is not None:
            self.attrs["xmlns"] = ns
            self.ns = ns
        else:
            self.ns = self.attrs.get("xmlns", "")
        self.children: list[Element | str] = children if children is not None else []

    # -- building -------------------------------------------------------
    def add(
        self,
        tag: str,
        attrs: dict[str, str] | None = None,
        ns: str | None = None,
        text: str | None = None,
    ) -> Element:
        """Append a new child element and return it."""
        child = Element(tag, attrs, ns)
        if ns is None and "xmlns" not in child.attrs:
            child.ns = self.ns
        if text is not None:
            child.children.append(text)
        self.children.append(child)
        return child

    def append(self, child: Element | str) -> Element:
        self.children.append(child)
        return self

    def set_text(self, text: str) -> Element:
        self.children = [c for c in self.children if not isinstance(c, str)]
        self.children.append(text)
        return self

    # -- reading --------------------------------------------------------
    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    @property
    def name(self) -> str:
        """The local name (the tag without any prefix)."""
        tag = self.tag
        colon = tag.find(":")
        return tag if colon < 0 else tag[colon + 1 :]

    @property
    def text(self) -> str:
        return "".join(c for c in self.children if isinstance(c, str))

    def elements(self) -> Iterator[Element]:
        for child in self.children:
            if isinstance(child, Element):
                yield child

    def find(self, name: str, ns: str | None = None) -> Element | None:
        for child in self.children:
            if isinstance(child, Element) and child.name == name and (ns is None or child.ns == ns):
                return child
        return None

    def find_all(self, name: str, ns: str | None = None) -> list[Element]:
        return [
            c
            for c in self.children
            if isinstance(c, Element) and c.name == name and (ns is None or c.ns == ns)
        ]

    def find_text(self, name: str, ns: str | None = None) -> str | None:
        child = self.find(name, ns)
        return None if child is None else child.text

    def first_child(self) -> Element | None:
        for child in self.children:
            if isinstance(child, Element):
                return child
        return None

    def copy(self) -> Element:
        clone = Element.__new__(Element)
        clone.tag = self.tag
        clone.attrs = dict(self.attrs)
        clone.ns = self.ns
        clone.children = [c.copy() if isinstance(c, Element) else c for c in self.children]
        return clone

    # -- serialising ----------------------------------------------------
    def to_str(self) -> str:
        parts: list[str] = []
        self._write(parts)
        return "".join(parts)

    def to_bytes(self) -> bytes:
        return self.to_str().encode()

    def _write(self, out: list[str]) -> None:
        out.append("<")
        out.append(self.tag)
        for key, value in self.attrs.items():
            out.append(f' {key}="{escape_attr(value)}"')
        if not self.children:
            out.append("/>")
            return
        out.append(">")
        for child in self.children:
            if isinstance(child, str):
                out.append(escape_text(child))
            else:
                child._write(out)
        out.append("</")
        out.append(self.tag)
        out.append(">")

    def __repr__(self) -> str:
        return f"Element({self.to_str()[:120]!r})"
