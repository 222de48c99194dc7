from celery import shared_task

from budgets import services


@shared_task(name="budgets.renew_due_budgets")
def renew_due_budgets():
    """Nightly: renew every auto-renewing budget whose period has ended."""
    return {"renewed": services.renew_due_budgets()}
