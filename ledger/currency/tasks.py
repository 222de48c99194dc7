from celery import shared_task

from config.tasks import MAX_RETRIES_DATABASE, TallyTask
from ledger.currency import services


@shared_task(name="ledger.refresh_exchange_rates", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def refresh_exchange_rates(location: str | None = None) -> dict:
    """Daily: the latest rates from EXCHANGE_RATE_SOURCE; rows they can convert are recomputed.
    ``location``: an ECB XML's path or URL instead (an operator catching up, e.g. the 90-day file)."""
    return services.rates_refresh(location=location)


@shared_task(name="ledger.recompute_base_amounts", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def recompute_base_amounts(user_id: str) -> dict:
    """After a base-currency change: the user's amount_base in the new base (idempotent)."""
    return {"user_id": user_id, "recomputed": services.user_amounts_recompute(user_id=user_id)}
