import datetime
import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from config.exceptions import DomainError
from ledger.anchoring.services import ledger_anchor


def _batch_date(value: str) -> datetime.date:
    today = timezone.now().astimezone(datetime.UTC).date()
    if value == "today":
        return today
    if value == "yesterday":
        return today - datetime.timedelta(days=1)
    return datetime.date.fromisoformat(value)


class Command(BaseCommand):
    help = (
        "Anchors unanchored transactions into the Merkle batch of a date (default: yesterday, UTC). "
        "'--date today' anchors everything created up to now. Running it again for a date changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", type=_batch_date, help="YYYY-MM-DD, 'today' or 'yesterday' (the default)")

    def handle(self, *args, date=None, **options):
        try:
            result = ledger_anchor(batch_date=date)
        except DomainError as exc:
            raise CommandError(str(exc.detail)) from exc
        self.stdout.write(json.dumps(result.as_dict(), sort_keys=True))
