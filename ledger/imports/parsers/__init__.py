"""The file-parsing layer of the bank-statement importer: bytes in, rows out.

Pure Python (stdlib, ofxtools, lxml, mt-940, openpyxl): no Django, no
database. Amounts follow Tally's convention, positive = money out."""

from collections.abc import Iterator

from .categories import TALLY_CATEGORIES
from .profiles import BUILTIN_PROFILES, detect_profile
from .types import ImportFileError, ParsedRow, ParseResult, Profile, RowError, Statement

__all__ = [
    "BUILTIN_PROFILES",
    "TALLY_CATEGORIES",
    "ImportFileError",
    "ParseResult",
    "ParsedRow",
    "Profile",
    "RowError",
    "Statement",
    "detect_format",
    "detect_profile",
    "iter_parse",
    "parse_file",
]

_CONTROL = bytes(range(0, 9)) + bytes(range(14, 32))
_EXTENSIONS = {"ofx": "ofx", "qfx": "ofx", "qif": "qif", "xml": "camt053", "sta": "mt940", "mt940": "mt940",
               "940": "mt940", "xlsx": "xlsx", "csv": "csv", "txt": "csv", "tsv": "csv"}  # fmt: skip


def _is_binary(head: bytes) -> bool:
    zeros = max(head[0::2].count(0), head[1::2].count(0))
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(head) > 8 and zeros > len(head) // 4):
        return False  # UTF-16 text
    sample = head[:8192]
    return sum(sample.count(byte) for byte in _CONTROL) > max(len(sample) // 20, 8)


def detect_format(content: bytes, filename: str = "") -> str:
    """csv | ofx | qif | camt053 | mt940 | xlsx, from the content (the extension only breaks ties)."""
    if not content or content.isspace():  # isspace scans in place; strip() would copy a whole 100 MB file
        raise ImportFileError("empty_file", "The file is empty.", "Upload the file the bank's download produced.")
    head = content[:8192]
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("unknown_format", "This is an old Excel .xls workbook.", "Save it as .xlsx or CSV.")
    if head.startswith(b"%PDF"):
        raise ImportFileError("unknown_format", "This is a PDF statement; it has no machine-readable rows.",
                              "Download the transactions as CSV, OFX or QIF from the bank instead.")  # fmt: skip
    if _is_binary(head):
        raise ImportFileError("unknown_format", "The file is binary, not a bank statement export.",
                              "Upload a CSV, OFX, QFX, QIF, CAMT.053, MT940 or XLSX file.")  # fmt: skip
    text = head.decode("utf-16" if head.startswith((b"\xff\xfe", b"\xfe\xff")) else "latin-1", "ignore")
    stripped = text.lstrip("\ufeff\xef\xbb\xbf \r\n\t")
    upper = stripped[:4096].upper()
    if upper.startswith("OFXHEADER") or "<OFX>" in upper or "<?OFX" in upper:
        return "ofx"
    if stripped.startswith("<"):
        if "CAMT.053" in upper:
            return "camt053"
        if "CAMT.05" in upper:
            raise ImportFileError("unknown_format", "This is a CAMT.052/054 report, not a CAMT.053 statement.",
                                  "Download the CAMT.053 statement instead.")  # fmt: skip
        if "<!ENTITY" in upper:
            from .camt import refuse_entities

            refuse_entities(content)
        raise ImportFileError("unknown_format", "The XML file is neither OFX nor CAMT.053.")
    if upper.startswith(("!TYPE", "!ACCOUNT", "!OPTION", "!CLEAR")):
        return "qif"
    if stripped.startswith("{1:") or (":20:" in stripped[:2000] and (":60F:" in upper or ":61:" in upper)):
        return "mt940"
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if _EXTENSIONS.get(extension) in ("qif", "mt940") and _EXTENSIONS[extension] != "csv":
        return _EXTENSIONS[extension]
    return "csv"


class ParseStream:
    """iter_parse's result: iterate for ParsedRow | RowError; format, profile, detected_by are set at once,
    statement, warnings and skipped are final when the iteration ends."""

    def __init__(self, inner):
        self._inner = inner
        self.format = inner.format
        self.detected_by = inner.detected_by
        self.profile = inner.profile

    def __iter__(self) -> Iterator[ParsedRow | RowError]:
        return iter(self._inner)

    @property
    def statement(self) -> Statement:
        return self._inner.statement

    @property
    def warnings(self) -> list[str]:
        return self._inner.warnings

    @property
    def skipped(self) -> int:
        return self._inner.skipped


def iter_parse(content: bytes, *, filename: str = "", profile: Profile | None = None, overrides: dict | None = None,
               max_rows: int = 1_000_000, generic_defaults: dict | None = None) -> ParseStream:  # fmt: skip
    """Streaming parse: rows and errors one at a time, memory flat in the file's size.
    generic_defaults: profile fields for a table that no built-in profile's
    signature fits (mapped from its header names), before any overrides."""
    fmt = detect_format(content, filename)
    overrides = dict(overrides or {})
    if profile is not None and overrides.get("format", profile.format) != fmt:
        wanted = overrides.get("format", profile.format)
        hint = "It needs no profile." if fmt in ("ofx", "qif", "camt053", "mt940") else ""
        if {fmt, wanted} == {"csv", "xlsx"}:
            profile = Profile.from_dict({**profile.to_dict(), "format": fmt})
        else:
            raise ImportFileError(
                "wrong_format_for_profile",
                f"The file is {fmt.upper()} but profile {profile.name} reads {wanted.upper()}.",
                f"Upload the {wanted.upper()} export, or import without a profile. {hint}".strip(),
            )
    if fmt in ("csv", "xlsx"):
        return ParseStream(_table(content, fmt, profile, overrides, max_rows, generic_defaults))
    from .camt import parse_camt
    from .ofx import parse_ofx
    from .qif import parse_qif
    from .swift import parse_mt940

    parser = {"ofx": parse_ofx, "qif": parse_qif, "camt053": parse_camt, "mt940": parse_mt940}[fmt]
    return ParseStream(parser(content, profile))


def _table(content: bytes, fmt: str, profile: Profile | None, overrides: dict, max_rows: int,
           generic_defaults: dict | None = None):  # fmt: skip
    from .records import CsvRecords, sniff_delimiter
    from .tabular import TableParse
    from .values import detect_encoding

    overrides.pop("format", None)
    if fmt == "xlsx":
        from .xlsx import XlsxRecords

        records = XlsxRecords(content)
        return TableParse(records, fmt=fmt, profile=profile, overrides=overrides, max_rows=max_rows, pad_rows=True,
                          generic_defaults=generic_defaults)  # fmt: skip
    encoding = detect_encoding(content, overrides.get("encoding", profile.encoding if profile else ""))
    delimiter = overrides.get("delimiter", profile.delimiter if profile else "")
    if not delimiter:
        sample = content[:65536].decode(encoding, "ignore")
        delimiter = sniff_delimiter(sample)
    records = CsvRecords(content, encoding, delimiter)
    return TableParse(
        records, fmt=fmt, profile=profile, overrides=overrides, max_rows=max_rows, generic_defaults=generic_defaults
    )


def parse_file(content: bytes, *, filename: str = "", profile: Profile | None = None, overrides: dict | None = None,
               max_rows: int = 1_000_000, generic_defaults: dict | None = None) -> ParseResult:  # fmt: skip
    stream = iter_parse(content, filename=filename, profile=profile, overrides=overrides, max_rows=max_rows,
                        generic_defaults=generic_defaults)  # fmt: skip
    rows: list[ParsedRow] = []
    errors: list[RowError] = []
    for item in stream:
        (rows if isinstance(item, ParsedRow) else errors).append(item)
    return ParseResult(
        format=stream.format,
        profile=stream.profile,
        detected_by=stream.detected_by,
        rows=rows,
        errors=errors,
        skipped=stream.skipped,
        statement=stream.statement,
        warnings=stream.warnings,
    )
