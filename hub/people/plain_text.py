"""Names people read (residents, staff, homes, tablets): printable text only.

A right-to-left override (U+202E) or another invisible formatting character makes a
name display as something other than what is stored ("Smith" that sorts and searches
as "htimS", a resident who looks like another), and control characters break logs and
exports. Such characters are refused with a message that names the one found; plain
whitespace (tabs, newlines, runs of spaces) is folded to single spaces.
"""

from __future__ import annotations

import unicodedata

from hub.errors import ValidationError

# Control, format (bidi overrides and isolates, zero-width characters), surrogate,
# private-use and unassigned code points, and the line/paragraph separators.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def plain_name(raw: str, *, field: str, label: str) -> str:
    """``raw`` with whitespace folded, or ValidationError naming a refused character."""
    value = " ".join(raw.split())
    for ch in value:
        if unicodedata.category(ch) in REFUSED_CATEGORIES:
            raise ValidationError(
                f"{label} must not contain invisible control or formatting characters "
                f"(found U+{ord(ch):04X}, {_char_name(ch)}): retype it",
                field=field,
            )
    return value


def _char_name(ch: str) -> str:
    if unicodedata.category(ch) == "Cc":
        return "a control character"
    return unicodedata.name(ch, "an unnamed character").lower()
