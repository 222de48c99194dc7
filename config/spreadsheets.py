"""CSV cells a spreadsheet will not run as formulas (OWASP "CSV injection")."""

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(text: str) -> str:
    """Text a spreadsheet shows as text: a leading apostrophe before a formula start
    (Tally's importers strip it again)."""
    return f"'{text}" if text and text[0] in FORMULA_START else text
