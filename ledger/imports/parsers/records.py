"""CSV records with spreadsheet row numbers, for the tabular parser.

csv.reader pulls physical lines from a feed that remembers the lines of the
current record. A record that spans several lines but does not have the
header's cell count is an unbalanced quote: that row becomes an error and
its following lines are read again as rows of their own, so one stray quote
never swallows (or shifts) the rest of the file."""

import csv
import io

from .types import RowProblem

DELIMITERS = (",", ";", "\t", "|")
MAX_CELL = 131072  # csv's own field limit: a longer cell is a row error, not a crash


def sniff_delimiter(sample: str) -> str:
    """The delimiter that splits the sample's lines into the most equal-width rows."""
    lines = [line for line in sample.splitlines()[:60] if line.strip()]
    if not lines:
        return ","
    best, best_score = ",", -1
    for delimiter in DELIMITERS:
        widths: dict[int, int] = {}
        for row in csv.reader(lines, delimiter=delimiter):
            if len(row) > 1:
                widths[len(row)] = widths.get(len(row), 0) + 1
        if not widths:
            continue
        width, count = max(widths.items(), key=lambda item: (item[1], item[0]))
        score = count * 1000 + width
        if score > best_score:
            best, best_score = delimiter, score
    return best


def width(cells: list[str]) -> int:
    """Cell count without trailing empty cells (Chase checking rows end with one more comma than the header)."""
    size = len(cells)
    while size and not cells[size - 1].strip():
        size -= 1
    return size


class CsvRecords:
    def __init__(self, content: bytes, encoding: str, delimiter: str):
        self._content = content
        self._encoding = encoding
        self._delimiter = delimiter
        self.expected = 0  # the header's width, once known

    def __iter__(self):
        stream = io.TextIOWrapper(io.BytesIO(self._content), encoding=self._encoding, newline="")
        source = iter(stream)
        pushed: list[str] = []
        consumed: list[str] = []

        def feed():
            while True:
                line = pushed.pop() if pushed else next(source, None)
                if line is None:
                    return
                consumed.append(line)
                yield line

        reader = csv.reader(feed(), delimiter=self._delimiter)
        number = 0
        while True:
            consumed.clear()
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                message = str(exc)
                if "field limit" in message:
                    message = f"A cell is longer than {MAX_CELL} characters."
                yield number, RowProblem(message), []
                if len(consumed) > 1:
                    pushed.extend(reversed(consumed[1:]))
                    reader = csv.reader(feed(), delimiter=self._delimiter)
                continue
            number += 1
            if len(consumed) > 1 and self.expected and len(cells) != self.expected:
                if width(cells) > self.expected or len(cells) < self.expected:
                    first = next(csv.reader([consumed[0]], delimiter=self._delimiter), [])
                    yield number, RowProblem("Unbalanced quote: a quoted cell is not closed on this row."), first
                    pushed.extend(reversed(consumed[1:]))
                    reader = csv.reader(feed(), delimiter=self._delimiter)
                    continue
            yield number, None, cells
