from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "ledger"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from ledger.anomalies import receivers  # noqa: F401 - connects the scoring listener
        from ledger.attachments import receivers as attachment_receivers  # noqa: F401 - files follow rows
        from ledger.currency import receivers as currency_receivers  # noqa: F401 - base change recomputes
