"""Where a bank or card statement's transactions sit in an OFX file's bytes,
so that parse_ofx can stream them: each BANKTRANLIST's run of STMTTRN
blocks, the document without those runs (the skeleton ofxtools reads whole:
header, statements, balances) and the runs cut into chunks at STMTTRN starts.

Bytes only, no copy of the file: a cut just before '<' is a character
boundary in every ASCII-compatible encoding; a file in any other encoding
(UTF-16) is not streamed."""

import codecs
import re
from collections.abc import Iterator

CHUNK_BYTES = 1 << 18  # a chunk's text and element tree: about 4 MB (16 MB at 1 MB, for no speed)
_STREAMABLE = re.compile(r"utf-8(-sig)?|ascii|iso8859-\d+|cp125\d|mac-roman")
_NAMES = (b"BANKTRANLIST", b"banktranlist")
_TRANSACTION = re.compile(rb"<STMTTRN>", re.IGNORECASE)


class Layout:
    """runs: (start, end) byte offsets of each transaction run (first <STMTTRN> up to
    </BANKTRANLIST>); run_lists: the ordinal of each run's BANKTRANLIST among all of them."""

    def __init__(self, content: bytes, start: int, encoding: str, runs: list, run_lists: list, lists: int):
        self.content = content
        self.start = start
        self.encoding = encoding
        self.runs = runs
        self.run_lists = run_lists
        self.lists = lists

    def skeleton_text(self) -> str:
        pieces, position = [], self.start
        for begin, end in self.runs:
            pieces.append(self.content[position:begin])
            position = end
        pieces.append(self.content[position:])
        return b"".join(pieces).decode(self.encoding)

    def chunks(self) -> Iterator[tuple[int, str]]:
        """(run index, text) of every chunk of every run, in file order; each chunk ends
        just before a <STMTTRN> or at its run's end."""
        content, encoding = self.content, self.encoding
        for index, (begin, end) in enumerate(self.runs):
            position = begin
            while position < end:
                found = _TRANSACTION.search(content, position + CHUNK_BYTES, end)  # None past the run's end
                cut = found.start() if found else end
                yield index, content[position:cut].decode(encoding)
                position = cut


def _tags(content: bytes, start: int, name: bytes) -> list[tuple[int, int, bool]]:
    """(tag start, tag end, closing) of every <name> and </name>, by bytes.find (a regex
    scan with IGNORECASE is ten times slower over a 150 MB file)."""
    found = []
    position = content.find(name, start)
    while position >= 0:
        closing = content[position - 2 : position] == b"</"
        opening = not closing and content[position - 1 : position] == b"<"
        if (closing or opening) and content[position + len(name) : position + len(name) + 1] == b">":
            found.append((position - (2 if closing else 1), position + len(name) + 1, closing))
        position = content.find(name, position + len(name))
    return found


def find_layout(content: bytes, start: int, encoding: str) -> Layout | None:
    """The transaction runs of a file whose BANKTRANLIST tags open and close in turn;
    None when the file is not of that shape (or not in a streamable encoding)."""
    if not _STREAMABLE.fullmatch(codecs.lookup(encoding).name):
        return None
    tags = next((found for name in _NAMES if (found := _tags(content, start, name))), [])
    if not tags or len(tags) % 2:
        return None
    runs, run_lists = [], []
    for ordinal in range(len(tags) // 2):
        (_begin, opened, opening_closes), (closed, _end, closing) = tags[2 * ordinal], tags[2 * ordinal + 1]
        if opening_closes or not closing:
            return None
        first = _TRANSACTION.search(content, opened, closed)
        if first is not None:
            runs.append((first.start(), closed))
            run_lists.append(ordinal)
    if not runs:
        return None  # no transactions to stream: the small file is read whole
    return Layout(content, start, encoding, runs, run_lists, len(tags) // 2)
