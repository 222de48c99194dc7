"""Exchange-rate sources for the daily refresh: the plug-in point.

A source is a class with a ``name``, a ``source`` (the ExchangeRate.Source
its rows are stored with) and a ``rates()`` method returning ``Rate``s
(units of a currency per 1 EUR on a date, Decimal, never float), like the
portfolio's price sources. ``settings.EXCHANGE_RATE_SOURCE`` is its dotted
path; it is built with no arguments once per refresh
(``ledger.refresh_exchange_rates``). A source that cannot reach its provider
raises ``ConnectionError`` or ``TimeoutError``: the task retries with backoff.

Built in: ``EcbDailySource`` (the default: the ECB's daily reference-rate XML
at ``settings.EXCHANGE_RATE_ECB_URL``) and ``StaticRateSource`` (rates from
``settings.EXCHANGE_RATE_STATIC``, for tests and demos; no network)."""

import datetime
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ledger.currency.services import Rate
from ledger.models import ExchangeRate

ECB_NAMESPACE = "{http://www.ecb.int/vocabulary/2002-08-01/eurofxref}"
# A reference-rate file is a few kilobytes; anything much larger is not one.
MAX_RESPONSE_BYTES = 2 * 1024 * 1024


class RateSource:
    """Subclass this and point EXCHANGE_RATE_SOURCE at the subclass."""

    name = "source"
    source = ExchangeRate.Source.OTHER

    def rates(self) -> Sequence[Rate]:
        raise NotImplementedError


def ecb_xml_parse(content: bytes) -> list[Rate]:
    """The ECB's eurofxref XML (daily or the 90-day file): one Cube per day
    with ``time``, holding Cubes with ``currency`` and ``rate``."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"Not an ECB reference-rate file: {exc}")
    rates = []
    for day in root.iter(f"{ECB_NAMESPACE}Cube"):
        if "time" not in day.attrib:
            continue
        on = datetime.date.fromisoformat(day.attrib["time"])
        for cube in day:
            try:
                rates.append(Rate(cube.attrib["currency"].upper(), on, Decimal(cube.attrib["rate"])))
            except (KeyError, InvalidOperation):
                continue
    return rates


class EcbDailySource(RateSource):
    name = "ecb"
    source = ExchangeRate.Source.ECB_DAILY

    def __init__(self, url: str | None = None, timeout: float = 10.0):
        self.url = url or settings.EXCHANGE_RATE_ECB_URL
        self.timeout = timeout

    def rates(self):
        import urllib3

        try:
            response = urllib3.request(
                "GET", self.url, timeout=urllib3.Timeout(total=self.timeout), redirect=False, preload_content=False
            )
            content = response.read(MAX_RESPONSE_BYTES + 1)
            response.release_conn()
        except urllib3.exceptions.TimeoutError as exc:
            raise TimeoutError(str(exc))
        except urllib3.exceptions.HTTPError as exc:
            raise ConnectionError(str(exc))
        if response.status >= 500:
            raise ConnectionError(f"{self.url} answered {response.status}")
        if response.status != 200 or len(content) > MAX_RESPONSE_BYTES:
            raise ValueError(f"{self.url} answered {response.status} ({len(content)} bytes)")
        return ecb_xml_parse(content)


class StaticRateSource(RateSource):
    """``settings.EXCHANGE_RATE_STATIC``: ``{"YYYY-MM-DD": {"USD": "1.08", ...}}``."""

    name = "static"
    source = ExchangeRate.Source.OTHER

    def rates(self):
        table = getattr(settings, "EXCHANGE_RATE_STATIC", {}) or {}
        return [
            Rate(code.upper(), datetime.date.fromisoformat(day), Decimal(str(value)))
            for day, codes in table.items()
            for code, value in codes.items()
        ]


def rate_source() -> RateSource:
    path = settings.EXCHANGE_RATE_SOURCE
    try:
        cls = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"EXCHANGE_RATE_SOURCE={path!r} cannot be imported: {exc}")
    source = cls()
    if not isinstance(source, RateSource):
        raise ImproperlyConfigured(f"EXCHANGE_RATE_SOURCE={path!r} is not a RateSource.")
    return source
