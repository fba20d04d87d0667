"""Cells a spreadsheet will not run: a CSV opened in Excel or LibreOffice executes a cell that
starts with =, +, - or @ (and, through some importers, a tab or a carriage return) as a
formula. A family's own words (a name, an allergy) end up in exports, so each such cell is
written with a leading apostrophe, which the spreadsheet shows as text (OWASP "CSV Injection").
"""

from __future__ import annotations

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
