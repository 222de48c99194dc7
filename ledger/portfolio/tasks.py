from celery import shared_task

from config.tasks import MAX_RETRIES_DATABASE, TallyTask
from ledger.portfolio import services


@shared_task(name="ledger.refresh_portfolio_valuations", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def refresh_portfolio_valuations() -> dict:
    """Hourly: revalue holdings from PORTFOLIO_PRICE_SOURCE (the default quotes nothing: a no-op)."""
    return services.holdings_refresh_prices()
