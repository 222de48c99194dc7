"""Anomaly scoring: how unusual a charge is against the user's own history.

A robust z-score, (amount - median) / (1.4826 * MAD), over the user's
positive amounts in the same category and currency in the 180 days up to
the charge (the same merchant's history when it has enough points; per
currency, so a charge is never compared with amounts in another unit, and
scores never depend on exchange rates), mapped to 0..1 with
1 - exp(-z / 2.175): z = 3.5, the usual outlier cut, scores 0.8. Fewer than
5 history points, a refund or income, or a charge below the median score 0.
A score >= 0.8 sends ``anomaly_alert`` once (a re-score that stays high does
not alert again)."""

import datetime
import math
import statistics
from bisect import bisect_left, bisect_right
from collections import defaultdict

from django.db import connection
from django.db import transaction as db_transaction
from django.utils import timezone

from config.locks import lock_pks
from ledger.models import Transaction
from realtime.services import notify_anomaly

WINDOW_DAYS = 180
MIN_HISTORY = 5
ALERT_THRESHOLD = 0.8
Z_SCALE = 3.5 / math.log(5)  # z = 3.5 -> 0.8
# A MAD of zero (the same price every time) would make any change infinite:
# the spread is at least this share of the median.
MIN_SPREAD_SHARE = 0.05
# The nightly re-score of imported rows alerts only for recent charges, not a year of history.
RESCORE_ALERT_MAX_AGE_DAYS = 7
RESCORE_BATCH = 1000


def robust_score(amount: float, history: list[float]) -> float:
    """0..1 for one amount against a history of positive amounts. Pure."""
    if amount <= 0 or len(history) < MIN_HISTORY:
        return 0.0
    median = statistics.median(history)
    mad = statistics.median(abs(x - median) for x in history)
    spread = max(1.4826 * mad, MIN_SPREAD_SHARE * median, 0.01)
    z = (amount - median) / spread
    if z <= 0:
        return 0.0
    return round(1 - math.exp(-z / Z_SCALE), 4)


def _history(points: list[tuple], *, tx_id, day: datetime.date, merchant: str, dates=None) -> list[float]:
    """points: (date, amount, merchant_key, id) of one user and category, sorted by date; dates: their dates."""
    dates = dates if dates is not None else [p[0] for p in points]
    lo = bisect_left(dates, day - datetime.timedelta(days=WINDOW_DAYS))
    hi = bisect_right(dates, day)
    window = [p for p in points[lo:hi] if p[3] != tx_id]
    same_merchant = [float(p[1]) for p in window if p[2] == merchant]
    if len(same_merchant) >= MIN_HISTORY:
        return same_merchant
    return [float(p[1]) for p in window]


def _points(*, user_id, category: str, currency: str, since: datetime.date, until: datetime.date) -> list[tuple]:
    return list(
        Transaction.objects.live()
        .standard()
        .for_user(user_id)
        .in_category(category)
        .filter(currency=currency)
        .spending()
        .between(since, until)
        .order_by("date")
        .values_list("date", "amount", "merchant_normalized", "id")
    )


def _alert(*, tx: Transaction, score: float) -> None:
    notify_anomaly(
        user_id=tx.user_id,
        transaction_id=tx.id,
        score=score,
        amount=f"{tx.amount:.2f}",
        merchant=tx.merchant_raw,
        category=tx.category,
    )


def transaction_score_anomaly(*, transaction_id) -> dict:
    """Scores one transaction, stores anomaly_score, alerts when it newly crosses 0.8. Idempotent."""
    with db_transaction.atomic():
        tx = (
            Transaction.objects.select_for_update(of=("self",))
            .only(
                "id",
                "user_id",
                "amount",
                "currency",
                "date",
                "category",
                "merchant_normalized",
                "merchant_raw",
                "anomaly_score",
                "kind",
            )
            .filter(id=transaction_id, is_deleted=False)
            .first()
        )
        if tx is None:  # deleted since it was queued: nothing to score
            return {"transaction_id": str(transaction_id), "score": None}
        score = 0.0
        if tx.amount > 0 and tx.kind == Transaction.Kind.STANDARD:  # a transfer or an adjustment is never odd spending
            points = _points(
                user_id=tx.user_id,
                category=tx.category,
                currency=tx.currency,
                since=tx.date - datetime.timedelta(days=WINDOW_DAYS),
                until=tx.date,
            )
            history = _history(points, tx_id=tx.id, day=tx.date, merchant=tx.merchant_normalized)
            score = robust_score(float(tx.amount), history)
        previous = tx.anomaly_score
        Transaction.objects.filter(id=tx.id).update(anomaly_score=score)
        alerted = score >= ALERT_THRESHOLD and (previous is None or previous < ALERT_THRESHOLD)
        if alerted:
            _alert(tx=tx, score=score)
    return {"transaction_id": str(tx.id), "score": score, "alerted": alerted}


def _write_scores(updates: list[tuple]) -> None:
    """One UPDATE ... FROM (VALUES ...) per batch (bulk_update's CASE is much slower for 1,000 rows)."""
    if not updates:
        return
    values = ", ".join(["(%s::uuid, %s::double precision)"] * len(updates))
    params = [str(v) for pair in updates for v in pair]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Transaction._meta.db_table} AS t SET anomaly_score = v.score "  # noqa: S608 (placeholders only)
            f"FROM (VALUES {values}) AS v(id, score) WHERE t.id = v.id",
            params,
        )


def anomalies_rescore_unscored(*, today: datetime.date | None = None, user_ids=None) -> dict:
    """Nightly: scores every live row still without a score (imports are not
    queued one by one). One history query per (user, category) with unscored
    rows; scores written in batches."""
    today = today or timezone.localdate()
    alert_since = today - datetime.timedelta(days=RESCORE_ALERT_MAX_AGE_DAYS)
    unscored = Transaction.objects.live().standard().filter(anomaly_score__isnull=True)
    if user_ids is not None:
        unscored = unscored.filter(user_id__in=list(user_ids))
    unscored = unscored.order_by("user_id", "category", "currency", "date").values_list(
        "id", "user_id", "category", "date", "amount", "merchant_normalized", "merchant_raw", "currency"
    )
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for row in unscored.iterator(chunk_size=5000):
        groups[(row[1], row[2], row[7])].append(row)
    scored = alerted = 0
    for (user_id, category, currency), rows in groups.items():
        points = _points(
            user_id=user_id,
            category=category,
            currency=currency,
            since=rows[0][3] - datetime.timedelta(days=WINDOW_DAYS),
            until=rows[-1][3],
        )
        dates = [p[0] for p in points]
        results = []
        for tx_id, _user, _cat, day, amount, merchant, _raw, _currency in rows:
            history = _history(points, tx_id=tx_id, day=day, merchant=merchant, dates=dates) if amount > 0 else []
            results.append(robust_score(float(amount), history))
        with db_transaction.atomic():
            # Only rows still unscored: a per-transaction task that ran meanwhile keeps its result (and its alert).
            for start in range(0, len(rows), RESCORE_BATCH):
                end = start + RESCORE_BATCH
                chunk = list(zip(rows[start:end], results[start:end], strict=True))
                still = lock_pks(Transaction.objects.filter(anomaly_score__isnull=True), [r[0] for r, _ in chunk])
                updates = [(r[0], s) for r, s in chunk if r[0] in still]
                _write_scores(updates)
                scored += len(updates)
                for r, s in chunk:
                    if r[0] in still and s >= ALERT_THRESHOLD and r[3] >= alert_since:
                        tx = Transaction(
                            id=r[0], user_id=user_id, amount=r[4], category=category, merchant_raw=r[6], date=r[3]
                        )
                        _alert(tx=tx, score=s)
                        alerted += 1
    return {"scored": scored, "alerted": alerted}
