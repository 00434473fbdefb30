"""Text cells a spreadsheet shows as text, never runs: the guard against CSV (formula) injection.

Excel, LibreOffice and Google Sheets read a cell starting with "=", "+", "-" or "@" (and, in some
versions, a tab or a carriage return) as a formula, so a typed note like `=HYPERLINK(...)` would run
when a colleague opens the export. A leading apostrophe makes the spreadsheet show the text as typed
(OWASP's CSV injection advice). Apply it to text only: numbers and times are written by the app and a
negative number must stay a number.
"""

from __future__ import annotations

__all__ = ["FORMULA_STARTS", "spreadsheet_text"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_text(value: str) -> str:
    """The text with a leading apostrophe if a spreadsheet would otherwise read it as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value
