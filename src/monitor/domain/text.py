"""Free text the records keep (names, beds, notes, reasons): what any of it may hold, wherever it comes
from (a form, an episode file), so that every record the app stores can also be exported and imported
again."""

from __future__ import annotations

import re

# The longest text of each kind (the database columns are as long; notes and reasons are unbounded
# there, but a page-long unbroken note made the PDF report's layout run for minutes).
MRN_MAX = 64
NAME_MAX = 200
BED_MAX = 32
AMOUNT_MAX = 100
NOTE_MAX = 2000

# Lone surrogates cannot be stored as UTF-8; control characters (tab and line breaks aside) are never
# typed, and a NUL ends C strings early (fromisoformat ignores what follows it; PostgreSQL refuses it).
_BAD_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def bad_character(text: str) -> str | None:
    """What is wrong with the first character no record may hold, or None."""
    found = _BAD_CHARACTER.search(text)
    if found is None:
        return None
    code = ord(found.group())
    kind = "a lone surrogate (not valid Unicode)" if 0xD800 <= code <= 0xDFFF else "a control character"
    return f"contains {kind}, U+{code:04X}"


def text_problem(text: str, max_len: int) -> str | None:
    """Why `text` (already stripped) cannot be kept, or None: too long, or a character no record may hold."""
    if len(text) > max_len:
        return f"is longer than {max_len} characters"
    return bad_character(text)
