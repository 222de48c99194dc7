"""python manage.py import_merchants PATH [--dry-run] [--batch-size N] [--update]
                                        [--errors-log FILE] [--strict] [--no-progress]

CSV columns: canonical_name, category, aliases (pipe-separated), country,
tags (JSON). The file is read and checked as a whole first: a wrong header,
an encoding other than UTF-8 or a binary file stops the command with a
non-zero exit before anything is written.

Progress goes to stderr (tqdm). Rejected rows are written next to the input
(``merchants.csv`` -> ``merchants.errors.log``) or to ``--errors-log``, and
make the command exit 1; the good rows are imported all the same, unless
``--strict``, which writes nothing when any row is rejected."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from config.errors import DomainError
from merchants.services import merchant_import, merchant_rows_read


def read_rows(path: Path) -> list[tuple[int, dict]]:
    """(line number, row) pairs; raises CommandError for a malformed file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}")
    try:
        return merchant_rows_read(raw, source=str(path))
    except DomainError as exc:
        raise CommandError(exc.detail) from exc


class Command(BaseCommand):
    help = "Import merchants from a CSV file (canonical_name, category, aliases, country, tags)."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Validate and count; write nothing.")
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per INSERT/UPDATE batch.")
        parser.add_argument("--update", action="store_true", help="Overwrite merchants that already exist.")
        parser.add_argument(
            "--errors-log",
            type=Path,
            default=None,
            help="Where rejected rows are written (default: next to the input, NAME.errors.log).",
        )
        parser.add_argument("--strict", action="store_true", help="Write nothing at all when any row is rejected.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar on stderr.")

    def handle(self, *args, path, dry_run, batch_size, update, errors_log, strict, no_progress, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        errors_log = errors_log or path.with_name(f"{path.stem}.errors.log")
        rows = read_rows(path)
        if strict and not dry_run:
            # Validate the whole file first; only a clean file is written.
            checked = self._import(rows, update=update, dry_run=True, batch_size=batch_size, progress=False)
            if checked.errors:
                self._report(checked, dry_run=True, errors_log=errors_log, note="--strict: nothing written; ")
                raise CommandError(f"{len(checked.errors)} row(s) rejected; see {errors_log}.")
        result = self._import(rows, update=update, dry_run=dry_run, batch_size=batch_size, progress=not no_progress)
        self._report(result, dry_run=dry_run, errors_log=errors_log)
        if result.errors:
            raise CommandError(f"{len(result.errors)} row(s) rejected; see {errors_log}.")

    def _import(self, rows, *, update, dry_run, batch_size, progress):
        bar = None
        if progress:
            bar = tqdm(total=len(rows), unit="row", desc="merchants", file=self.stderr._out, mininterval=0.5)
        try:
            return merchant_import(
                rows=rows,
                update=update,
                dry_run=dry_run,
                batch_size=batch_size,
                progress=bar.update if bar else None,
            )
        finally:
            if bar:
                bar.close()

    def _report(self, result, *, dry_run, errors_log, note=""):
        if result.errors:
            try:
                with errors_log.open("w", encoding="utf-8") as log:
                    for line, row, reason in result.errors:
                        log.write(f"line {line}: {reason}: {row.get('canonical_name', '')!r}\n")
            except OSError as exc:
                raise CommandError(f"Cannot write the error log {errors_log}: {exc.strerror or exc}")
        prefix = note + ("[dry run] would have " if dry_run else "")
        self.stdout.write(
            f"{prefix}imported {result.imported}, updated {result.updated}, skipped {result.skipped}, "
            f"errors {len(result.errors)} "
            f"(duplicates in file {result.duplicates_in_file}, already in database {result.existing_in_db})"
        )
        if result.errors:
            self.stdout.write(f"rejected rows written to {errors_log}")
