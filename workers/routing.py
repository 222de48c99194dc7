"""Which queue each task runs on: the one table (task name -> queue).

high_priority: a user is waiting (imports). default: alerts, scoring, e-mail.
low_priority: cleanup. scheduled: nightly jobs.
"""

QUEUES = ("high_priority", "default", "low_priority", "scheduled")

TASK_ROUTES = {
    "workers.ping": {"queue": "default"},
    "ledger.commit_import": {"queue": "high_priority"},
    "ledger.sweep_imports": {"queue": "default"},
    "workers.cleanup_task_results": {"queue": "low_priority"},
    "accounts.cleanup_expired_sessions": {"queue": "low_priority"},
    "workers.weekly_summary": {"queue": "scheduled"},
    "workers.monthly_report": {"queue": "scheduled"},
    "budgets.renew_due_budgets": {"queue": "scheduled"},
    "ledger.detect_subscriptions": {"queue": "scheduled"},
    "ledger.send_subscription_reminders": {"queue": "scheduled"},
    "ledger.rescore_imported_anomalies": {"queue": "scheduled"},
    "ledger.score_transaction_anomaly": {"queue": "default"},
    "ledger.anchor_ledger": {"queue": "scheduled"},
    "ledger.verify_ledger": {"queue": "scheduled"},
    "ledger.refresh_portfolio_valuations": {"queue": "scheduled"},
    "ledger.refresh_exchange_rates": {"queue": "scheduled"},
    "ledger.recompute_base_amounts": {"queue": "default"},
    "realtime.cleanup_old_notifications": {"queue": "low_priority"},
    "realtime.webhook_deliver": {"queue": "default"},
    "realtime.webhook_deliver_batch": {"queue": "default"},
    "realtime.webhook_sweep": {"queue": "default"},
    "realtime.cleanup_webhook_deliveries": {"queue": "low_priority"},
}
