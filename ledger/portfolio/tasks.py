from celery import shared_task

from ledger.portfolio import services
from workers.retry import MAX_RETRIES_DATABASE, TallyTask


@shared_task(name="ledger.refresh_portfolio_valuations", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def refresh_portfolio_valuations() -> dict:
    """Hourly: revalue holdings from PORTFOLIO_PRICE_SOURCE (the default quotes nothing: a no-op)."""
    return services.holdings_refresh_prices()
