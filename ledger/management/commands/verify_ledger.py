import datetime
import json

from django.core.management.base import BaseCommand, CommandError

from config.exceptions import DomainError
from ledger.anchoring.services import ledger_verify


class Command(BaseCommand):
    help = (
        "Recomputes every anchored Merkle batch (or one) from the database and reports each transaction "
        "whose row no longer matches its anchored hash. Exits 1 when any batch fails."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", type=datetime.date.fromisoformat, help="only the batch of this date (YYYY-MM-DD)")
        parser.add_argument("--json", dest="as_json", action="store_true", help="one JSON object per batch")
        parser.add_argument("--notify", action="store_true", help="also alert staff about failing batches")

    def handle(self, *args, date=None, as_json=False, notify=False, **options):
        try:
            reports = ledger_verify(batch_date=date, notify=notify)
        except DomainError as exc:
            raise CommandError(str(exc.detail)) from exc
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
            raise SystemExit(1)


def _json(data) -> str:
    return json.dumps(data, sort_keys=True)
