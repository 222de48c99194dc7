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
# A daily reference-rate file is a few kilobytes; anything much larger is not one.
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


# The ECB's 90-day file is about 100 kB and its whole-history XML a few MB;
# an operator catching up loads one of those, not a daily file.
MAX_FILE_BYTES = 64 * 1024 * 1024


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


class EcbXmlSource(RateSource):
    """An ECB reference-rate XML (the daily file, ``eurofxref-hist-90d.xml``
    or ``eurofxref-hist.xml``) at an http(s) URL, a ``file://`` URL or a
    path: how an operator catches up on missed days, offline too
    (``manage.py load_rates --file eurofxref-hist-90d.xml`` or ``--url``)."""

    name = "ecb_xml"
    source = ExchangeRate.Source.ECB_DAILY
    max_bytes = MAX_FILE_BYTES

    def __init__(self, location: str, timeout: float = 30.0):
        self.url = str(location)
        self.timeout = timeout

    def rates(self):
        if _is_url(self.url):
            return ecb_xml_parse(self._download())
        path = self.url.removeprefix("file://")
        with open(path, "rb") as handle:
            content = handle.read(self.max_bytes + 1)
        if len(content) > self.max_bytes:
            raise ValueError(f"{path} is over {self.max_bytes} bytes: not an ECB reference-rate file")
        return ecb_xml_parse(content)

    def _download(self) -> bytes:
        import urllib3

        try:
            response = urllib3.request(
                "GET", self.url, timeout=urllib3.Timeout(total=self.timeout), redirect=False, preload_content=False
            )
            content = response.read(self.max_bytes + 1)
            response.release_conn()
        except urllib3.exceptions.TimeoutError as exc:
            raise TimeoutError(str(exc))
        except urllib3.exceptions.HTTPError as exc:
            raise ConnectionError(str(exc))
        if response.status >= 500:
            raise ConnectionError(f"{self.url} answered {response.status}")
        if response.status != 200 or len(content) > self.max_bytes:
            raise ValueError(f"{self.url} answered {response.status} ({len(content)} bytes)")
        return content


class EcbDailySource(EcbXmlSource):
    """The default daily source: ``settings.EXCHANGE_RATE_ECB_URL`` (the ECB's
    daily XML; point it at the 90-day URL, or at a file path an operator
    drops in, and the same task catches up)."""

    name = "ecb"
    source = ExchangeRate.Source.ECB_DAILY
    max_bytes = MAX_RESPONSE_BYTES

    def __init__(self, url: str | None = None, timeout: float = 10.0):
        super().__init__(url or settings.EXCHANGE_RATE_ECB_URL, timeout=timeout)


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
