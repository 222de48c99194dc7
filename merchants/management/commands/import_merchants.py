"""python manage.py import_merchants PATH [--dry-run] [--batch-size N] [--update]

CSV columns: canonical_name, category, aliases (pipe-separated), country,
tags (JSON). The file is read and checked as a whole first: a wrong header,
an encoding other than UTF-8 or a binary file stops the command with a
non-zero exit before anything is written."""

import csv
import io
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from merchants.services import merchant_import

REQUIRED_COLUMNS = ["canonical_name", "category", "aliases", "country", "tags"]
MAX_FILE_BYTES = 50 * 1024 * 1024


def read_rows(path: Path) -> list[tuple[int, dict]]:
    """(line number, row) pairs; raises CommandError for a malformed file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}")
    if len(raw) > MAX_FILE_BYTES:
        raise CommandError(f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    if b"\x00" in raw:
        raise CommandError(f"{path} looks like a binary file, not a CSV.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path} is not UTF-8 (invalid byte at position {exc.start}).")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise CommandError(
            f"{path} has the wrong header: missing {', '.join(missing)}. "
            f"Expected columns: {', '.join(REQUIRED_COLUMNS)}."
        )
    reader.fieldnames = header
    rows = []
    try:
        for row in reader:
            if None in row:
                row["_extra"] = row.pop(None)
            if not any((v or "").strip() for k, v in row.items() if k != "_extra"):
                continue  # blank line
            rows.append((reader.line_num, row))
    except csv.Error as exc:
        raise CommandError(f"{path} is not a valid CSV (line {reader.line_num}): {exc}")
    return rows


class Command(BaseCommand):
    help = "Import merchants from a CSV file (canonical_name, category, aliases, country, tags)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Validate and count; write nothing.")
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per INSERT/UPDATE batch.")
        parser.add_argument("--update", action="store_true", help="Overwrite merchants that already exist.")
        parser.add_argument(
            "--errors-log", type=Path, default=Path("import_errors.log"), help="Where rejected rows are written."
        )

    def handle(self, *args, path, dry_run, batch_size, update, errors_log, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        rows = read_rows(path)
        bar = None
        if sys.stdout.isatty() and self.stdout._out is sys.stdout:
            from tqdm import tqdm

            bar = tqdm(total=len(rows), unit="row", desc="merchants")
        try:
            result = merchant_import(
                rows=rows,
                update=update,
                dry_run=dry_run,
                batch_size=batch_size,
                progress=bar.update if bar else None,
            )
        finally:
            if bar:
                bar.close()

        if result.errors:
            with errors_log.open("w", encoding="utf-8") as log:
                for line, row, reason in result.errors:
                    log.write(f"line {line}: {reason}: {row.get('canonical_name', '')!r}\n")
        prefix = "[dry run] would have " if dry_run else ""
        self.stdout.write(
            f"{prefix}imported {result.imported}, updated {result.updated}, skipped {result.skipped}, "
            f"errors {len(result.errors)} "
            f"(duplicates in file {result.duplicates_in_file}, already in database {result.existing_in_db})"
        )
        if result.errors:
            self.stdout.write(f"rejected rows written to {errors_log}")
