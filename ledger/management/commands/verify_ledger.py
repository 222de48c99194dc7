"""manage.py verify_ledger [--date YYYY-MM-DD|today|yesterday] [--json] [--notify]

Exit codes: 0 every batch checked verifies; 1 tampering (a batch fails);
2 usage, or nothing to verify (no batch on that date, no batch at all)."""

import argparse
import datetime
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from config.exceptions import DomainError
from ledger.anchoring.services import ledger_verify

EXIT_TAMPERED = 1
EXIT_NOTHING_TO_VERIFY = 2


def batch_date(value: str) -> datetime.date:
    """YYYY-MM-DD, 'today' or 'yesterday' (UTC, as anchor_ledger dates its batches)."""
    today = timezone.now().astimezone(datetime.UTC).date()
    if value == "today":
        return today
    if value == "yesterday":
        return today - datetime.timedelta(days=1)
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not YYYY-MM-DD, 'today' or 'yesterday'")


class Command(BaseCommand):
    help = (
        "Recomputes every anchored Merkle batch (or one) from the database and reports each transaction "
        "whose row no longer matches its anchored hash. Exits 0 when all verify, 1 when any batch fails "
        "(tampering), 2 for bad usage or nothing to verify."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date", type=batch_date, help="only the batch of this date: YYYY-MM-DD, today or yesterday (UTC)"
        )
        parser.add_argument("--json", dest="as_json", action="store_true", help="one JSON object per batch")
        parser.add_argument("--notify", action="store_true", help="also alert staff about failing batches")

    def handle(self, *args, date=None, as_json=False, notify=False, **options):
        try:
            reports = ledger_verify(batch_date=date, notify=notify)
        except DomainError as exc:  # no batch on that date
            raise CommandError(str(exc.detail), returncode=EXIT_NOTHING_TO_VERIFY) from exc
        if not reports:
            raise CommandError("No anchored batch to verify yet.", returncode=EXIT_NOTHING_TO_VERIFY)
        for report in reports:
            if as_json:
                self.stdout.write(_json(report.as_dict()))
                continue
            verdict = self.style.SUCCESS("ok") if report.ok else self.style.ERROR("MISMATCH")
            self.stdout.write(
                f"{report.batch_date}  {verdict}  rows {report.rows_checked}/{report.transaction_count}  "
                f"root {'matches' if report.root_matches else 'DIFFERS'}  "
                f"anchor {'verifies' if report.anchor_ok else 'FAILS'}"
            )
            for problem in report.problems:
                self.stdout.write("    " + "  ".join(f"{key}={value}" for key, value in problem.items()))
        failed = [report for report in reports if not report.ok]
        if not as_json:
            self.stdout.write(f"{len(reports)} batch(es) checked, {len(failed)} failed.")
        if failed:
            raise SystemExit(EXIT_TAMPERED)


def _json(data) -> str:
    return json.dumps(data, sort_keys=True)
