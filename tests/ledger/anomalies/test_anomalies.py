import datetime
from decimal import Decimal

import pytest

from ledger.anomalies import services as anomalies
from ledger.models import Transaction
from ledger.tasks import rescore_imported_anomalies, score_transaction_anomaly
from ledger.transactions import services
from merchants.categories import Category
from realtime.models import Notification
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 7, 10)


def history(user, amounts, *, merchant_raw="Shop", category=Category.GROCERIES, start=DAY, score=0.0):
    for i, amount in enumerate(amounts):
        TransactionFactory(
            user=user,
            merchant_raw=merchant_raw if isinstance(merchant_raw, str) else merchant_raw[i],
            category=category,
            amount=Decimal(amount),
            date=start - datetime.timedelta(days=3 * (i + 1)),
            anomaly_score=score,
        )


def test_robust_score_mapping():
    steady = [48.0, 50.0, 52.0, 49.0, 51.0, 50.0]
    assert anomalies.robust_score(50.0, steady) == 0.0
    assert anomalies.robust_score(20.0, steady) == 0.0  # cheaper than usual is not alarming
    assert anomalies.robust_score(500.0, steady) > 0.99
    assert anomalies.robust_score(500.0, steady[:4]) == 0.0  # fewer than 5 points
    assert anomalies.robust_score(-500.0, steady) == 0.0  # refunds and income
    # A flat history (MAD 0) does not make one cent an outlier.
    assert anomalies.robust_score(10.01, [10.0] * 6) < 0.1
    # z = 3.5 maps to 0.8: median 100, MAD 10 -> sigma 14.826.
    assert anomalies.robust_score(100 + 3.5 * 14.826, [80, 90, 100, 110, 120]) == pytest.approx(0.8, abs=0.01)


def test_spike_against_category_history_scores_high_and_alerts(user):
    history(user, ["48", "50", "52", "49", "51", "50", "47", "53"], merchant_raw=[f"Shop {i}" for i in range(8)])
    spike = TransactionFactory(user=user, merchant_raw="Big Store", amount=Decimal("400.00"), date=DAY)

    result = score_transaction_anomaly.apply(args=[str(spike.id)]).get()

    spike.refresh_from_db()
    assert spike.anomaly_score == result["score"] and spike.anomaly_score >= 0.8
    note = Notification.objects.get(type="anomaly_alert")
    assert note.user == user
    assert note.data == {
        "transaction_id": str(spike.id),
        "score": spike.anomaly_score,
        "amount": "400.00",
        "merchant": "Big Store",
        "category": Category.GROCERIES.value,
    }

    # Running again (a retry, an edit that changes nothing) stores the same score and does not alert twice.
    assert anomalies.transaction_score_anomaly(transaction_id=spike.id)["alerted"] is False
    assert Notification.objects.filter(type="anomaly_alert").count() == 1


def test_usual_amount_scores_low_and_does_not_alert(user):
    history(user, ["48", "50", "52", "49", "51", "50"])
    usual = TransactionFactory(user=user, merchant_raw="Shop", amount=Decimal("53.00"), date=DAY)

    anomalies.transaction_score_anomaly(transaction_id=usual.id)

    usual.refresh_from_db()
    assert usual.anomaly_score < 0.5
    assert not Notification.objects.exists()


def test_too_little_history_scores_zero(user, other_user):
    history(user, ["10", "11", "12", "10"])
    history(other_user, ["10", "11", "12", "10", "11", "12"])  # someone else's history does not count
    history(user, ["10", "11"], category=Category.TRANSPORT)  # nor another category
    history(user, ["10"], start=DAY - datetime.timedelta(days=200))  # nor older than 180 days
    tx = TransactionFactory(user=user, merchant_raw="Shop", amount=Decimal("900.00"), date=DAY)

    assert anomalies.transaction_score_anomaly(transaction_id=tx.id)["score"] == 0.0
    tx.refresh_from_db()
    assert tx.anomaly_score == 0.0


def test_same_merchant_history_wins_when_long_enough(user):
    # The category is spread widely around 90; this merchant always charges about 20.
    history(user, ["60", "150", "85", "130", "45", "100", "70", "110"], merchant_raw=[f"S{i}" for i in range(8)])
    history(user, ["20", "21", "19", "20", "20"], merchant_raw="Coffee Club")
    tx = TransactionFactory(user=user, merchant_raw="Coffee Club", amount=Decimal("90.00"), date=DAY)

    assert anomalies.transaction_score_anomaly(transaction_id=tx.id)["score"] >= 0.8
    other = TransactionFactory(user=user, merchant_raw="Elsewhere", amount=Decimal("90.00"), date=DAY)
    assert anomalies.transaction_score_anomaly(transaction_id=other.id)["score"] < 0.5


def test_deleted_transaction_is_skipped(user):
    tx = TransactionFactory(user=user, is_deleted=True)
    assert score_transaction_anomaly.apply(args=[str(tx.id)]).get()["score"] is None


def test_nightly_rescore_scores_only_unscored_rows_and_alerts_only_recent(user, other_user):
    history(
        user,
        ["48", "50", "52", "49", "51", "50"],
        merchant_raw=[f"Shop {i}" for i in range(6)],
        start=DAY - datetime.timedelta(days=30),
        score=None,
    )
    recent = TransactionFactory(user=user, amount=Decimal("400.00"), date=DAY)
    old = TransactionFactory(user=user, amount=Decimal("400.00"), date=DAY - datetime.timedelta(days=20))
    refund = TransactionFactory(user=user, amount=Decimal("-20.00"), date=DAY)
    scored = TransactionFactory(user=other_user, amount=Decimal("5.00"), date=DAY, anomaly_score=0.42)

    summary = rescore_imported_anomalies.apply(kwargs={"today": DAY.isoformat()}).get()

    assert summary == {"scored": 9, "alerted": 1}
    assert not Transaction.objects.filter(anomaly_score__isnull=True).exists()
    scores = dict(Transaction.objects.values_list("id", "anomaly_score"))
    assert scores[recent.id] >= 0.8 and scores[old.id] >= 0.8
    assert scores[refund.id] == 0.0 and scores[scored.id] == 0.42
    alert = Notification.objects.get(type="anomaly_alert")
    assert alert.data["transaction_id"] == str(recent.id)
    # Nothing left to score: a second night does nothing.
    assert anomalies.anomalies_rescore_unscored(today=DAY) == {"scored": 0, "alerted": 0}


def test_creating_a_transaction_queues_scoring_after_commit(user, celery_eager, django_capture_on_commit_callbacks):
    history(user, ["48", "50", "52", "49", "51", "50"], merchant_raw=[f"Shop {i}" for i in range(6)])

    with django_capture_on_commit_callbacks(execute=True):
        tx = services.transaction_create(
            user=user, amount=Decimal("450.00"), date=DAY, merchant_raw="Big Store", category=Category.GROCERIES
        )

    tx.refresh_from_db()
    assert tx.anomaly_score is not None and tx.anomaly_score >= 0.8
    assert Notification.objects.filter(type="anomaly_alert", user=user).count() == 1
