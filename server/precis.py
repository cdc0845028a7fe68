"""PRECIS (RFC 8264/8265) profiles used by JIDs (RFC 7622): UsernameCaseMapped for localparts and
OpaqueString for resourceparts. Pure functions; :mod:`tigase_py.server.jid` caches the results.

What is checked: the width, space, case and NFC mappings of each profile, and the code point classes
(IdentifierClass for usernames, FreeformClass for opaque strings) by Unicode general category, with
Default_Ignorable code points and the contextual join controls (RFC 5892 Appendix A.1/A.2: only after a
virama). Not checked: the Bidi Rule (RFC 5893), which matters only to right-to-left strings.
"""

from __future__ import annotations

import unicodedata

# General categories each class accepts (RFC 8264 §9.1 LetterDigits, §9.7 OtherLetterDigits,
# §9.14 Spaces, §9.15 Symbols, §9.16 Punctuation).
_LETTER_DIGITS = frozenset({"Ll", "Lu", "Lo", "Nd", "Lm", "Mn", "Mc"})
_FREEFORM = _LETTER_DIGITS | {
    "Lt",
    "Nl",
    "No",
    "Me",
    "Zs",
    "Sm",
    "Sc",
    "Sk",
    "So",
    "Pc",
    "Pd",
    "Ps",
    "Pe",
    "Pi",
    "Pf",
    "Po",
}
# Default_Ignorable_Code_Point characters whose category would otherwise pass (the Cf ones fail anyway).
_IGNORABLE_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xE0100, 0xE01EF),
)
_JOIN_CONTROLS = frozenset({"\u200c", "\u200d"})
_VIRAMA = 9  # canonical combining class of a virama


class PrecisError(ValueError):
    """The string is disallowed by the profile; the message names the first offending code point."""


def _is_ignorable(char: str) -> bool:
    point = ord(char)
    return any(low <= point <= high for low, high in _IGNORABLE_RANGES)


def _describe(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}"


def _check(text: str, allowed: frozenset[str], what: str, allow_compat: bool) -> None:
    previous = ""
    for char in text:
        if char in _JOIN_CONTROLS:
            if not previous or unicodedata.combining(previous) != _VIRAMA:
                raise PrecisError(f"{what}: {_describe(char)} is only allowed after a virama")
        elif " " < char < "\x7f":
            pass  # printable ASCII is valid in both classes
        elif unicodedata.category(char) not in allowed or _is_ignorable(char):
            raise PrecisError(f"{what}: {_describe(char)} is not allowed")
        elif not allow_compat and unicodedata.normalize("NFKC", char) != char:
            raise PrecisError(f"{what}: {_describe(char)} has a compatibility equivalent")
        previous = char


def opaque_string(text: str) -> str:
    """RFC 8265 §4.2: map non-ASCII spaces to U+0020, NFC, then FreeformClass; never empty."""
    if not text.isascii():
        text = "".join(" " if unicodedata.category(c) == "Zs" else c for c in text)
        text = unicodedata.normalize("NFC", text)
    if not text:
        raise PrecisError("empty string")
    if text.isascii():
        if any(not " " <= c < "\x7f" for c in text):
            raise PrecisError("control characters are not allowed")
        return text
    _check(text, _FREEFORM, "opaque string", allow_compat=True)
    return text


def _width_map(char: str) -> str:
    decomposition = unicodedata.decomposition(char)
    if decomposition.startswith(("<wide>", "<narrow>")):
        return chr(int(decomposition.split()[1], 16))
    return char


def username_case_mapped(text: str) -> str:
    """RFC 8265 §3.3: width mapping, lower case, NFC, then IdentifierClass; never empty."""
    if text.isascii():
        text = text.lower()
        if not text:
            raise PrecisError("empty string")
        if any(not " " < c < "\x7f" for c in text):
            raise PrecisError("spaces and control characters are not allowed")
        return text
    text = unicodedata.normalize("NFC", "".join(_width_map(c) for c in text).lower())
    _check(text, _LETTER_DIGITS, "username", allow_compat=False)
    return text
