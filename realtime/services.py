"""notify() and the typed event helpers every app calls.

CONTRACT (other apps already call these signatures; keep them):
the realtime issue implements persistence (Notification) and delivery
after commit through the channel layer. Until then they do nothing."""

from typing import Any


def notify(user_id, event_type: str, data: dict[str, Any]):
    return None


def broadcast(event_type: str, data: dict[str, Any]):
    return None


def notify_transaction_update(*, user_id, action: str, transaction: dict[str, Any]):
    return notify(user_id, "transaction_update", {"action": action, "transaction": transaction})


def notify_budget_alert(
    *, user_id, category: str, budget: str, spent: str, percentage: float, remaining: str, level: str
):
    return notify(
        user_id,
        "budget_alert",
        {
            "category": category,
            "budget": budget,
            "spent": spent,
            "percentage": percentage,
            "remaining": remaining,
            "level": level,
        },
    )


def notify_anomaly(*, user_id, transaction_id, score: float, amount: str, merchant: str, category: str):
    return notify(
        user_id,
        "anomaly_alert",
        {
            "transaction_id": str(transaction_id),
            "score": score,
            "amount": amount,
            "merchant": merchant,
            "category": category,
        },
    )


def notify_subscription_reminder(*, user_id, recurrence_id, merchant: str, amount: str, expected_date: str):
    return notify(
        user_id,
        "subscription_reminder",
        {"recurrence_id": str(recurrence_id), "merchant": merchant, "amount": amount, "expected_date": expected_date},
    )


def notify_portfolio_update(*, user_id, holding: dict[str, Any]):
    return notify(user_id, "portfolio_update", {"holding": holding})


def notify_import_progress(*, user_id, job_id, processed: int, total: int, status: str, summary: dict | None = None):
    return notify(
        user_id,
        "import_progress",
        {"job_id": str(job_id), "processed": processed, "total": total, "status": status, "summary": summary},
    )
