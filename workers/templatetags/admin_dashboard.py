"""The admin index's dashboard: counts from workers.selectors.admin_dashboard,
each with a link to the admin list that shows the rows behind it."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from workers.selectors import admin_dashboard as dashboard_counts

register = template.Library()


def _link(name: str, **query) -> str:
    url = reverse(f"admin:{name}")
    return f"{url}?{urlencode(query)}" if query else url


def _batch_row(batch) -> dict:
    if batch is None:
        return {
            "label": "Last anchoring batch",
            "value": "none yet",
            "status": "idle",
            "url": _link("ledger_merklebatch_changelist"),
        }
    state = {True: ("verified", "ok"), False: ("FAILED verification", "bad"), None: ("not verified yet", "idle")}
    value, status = state[batch["verification_ok"]]
    return {
        "label": f"Last anchoring batch ({batch['batch_date']:%Y-%m-%d})",
        "value": value,
        "status": status,
        "url": reverse("admin:ledger_merklebatch_change", args=[batch["id"]]),
    }


@register.inclusion_tag("admin/dashboard.html", takes_context=True)
def admin_dashboard(context):
    request = context.get("request")
    if request is None or not request.user.is_staff:
        return {"rows": []}
    counts = dashboard_counts()
    since_week = counts["week_ago"].isoformat()
    since_day = counts["day_ago"].isoformat()
    rows = [
        {
            "label": "Users active this week",
            "value": counts["active_users"],
            "url": _link("accounts_session_changelist", last_used_at__gte=since_week),
        },
        {
            "label": "Transactions imported today",
            "value": counts["imported_today"],
            "url": _link(
                "ledger_transaction_changelist",
                source__in="csv,import",
                created_at__gte=counts["today_start"].isoformat(),
            ),
        },
        {
            "label": "Imports failed (7 days)",
            "value": counts["imports_failed"],
            "status": "bad" if counts["imports_failed"] else "ok",
            "url": _link("ledger_import_changelist", status__exact="failed", updated_at__gte=since_week),
        },
        {
            "label": "Dead letters waiting",
            "value": counts["dead_letters"],
            "status": "bad" if counts["dead_letters"] else "ok",
            "url": _link("workers_deadletter_changelist", requeued_at__isempty="1"),
        },
        _batch_row(counts["last_batch"]),
    ]
    for alert_type, count in counts["alerts"].items():
        rows.append(
            {
                "label": f"{alert_type} (24 hours)",
                "value": count,
                "url": _link("realtime_notification_changelist", type__exact=alert_type, created_at__gte=since_day),
            }
        )
    return {"rows": rows, "computed_at": counts["computed_at"]}
