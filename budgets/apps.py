from django.apps import AppConfig


class BudgetsConfig(AppConfig):
    name = "budgets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts.signals import base_currency_changing
        from budgets.receivers import on_base_currency_changing, on_transactions_changed
        from ledger.events import transactions_changed

        transactions_changed.connect(on_transactions_changed, dispatch_uid="budgets.on_transactions_changed")
        base_currency_changing.connect(on_base_currency_changing, dispatch_uid="budgets.on_base_currency_changing")
