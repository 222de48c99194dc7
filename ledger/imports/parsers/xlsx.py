"""XLSX through openpyxl (read_only): the first sheet's rows become string
cells for the tabular parser. The zip directory is checked first, so a
small file that unpacks to gigabytes is refused before anything is read."""

import datetime
import io
import zipfile
from decimal import Decimal

from .types import ImportFileError

MAX_RATIO = 50
MAX_UNPACKED = 200 * 1024 * 1024


def check_archive(content: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportFileError("bad_archive", "The file looks like a ZIP archive but cannot be opened.",
                              "Export the statement again as XLSX or CSV.")  # fmt: skip
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names:
        raise ImportFileError("bad_archive", "The ZIP archive is not an Excel workbook (no xl/workbook.xml).",
                              "Unzip it and upload the CSV, OFX or XLSX file inside.")  # fmt: skip
    unpacked = sum(info.file_size for info in infos)
    if unpacked > MAX_RATIO * len(content) or unpacked > MAX_UNPACKED:
        raise ImportFileError("too_large", f"The workbook unpacks to {unpacked} bytes, too much for its size.",
                              "Save the sheet as CSV and upload that.")  # fmt: skip
    return archive


def _text(value, decimal: str) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        text = format(Decimal(repr(value)) if isinstance(value, float) else value, "f")
        return text.replace(".", ",") if decimal == "," else text
    return str(value)


class XlsxRecords:
    def __init__(self, content: bytes, decimal: str = "."):
        check_archive(content)
        self.content = content
        self.decimal = decimal
        self.expected = 0

    def __iter__(self):
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(self.content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises KeyError, InvalidFileException, XML errors...
            raise ImportFileError("bad_archive", f"The workbook cannot be read: {exc}")
        try:
            sheet = workbook.worksheets[0]
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, None, [_text(value, self.decimal) for value in row]
        finally:
            workbook.close()
