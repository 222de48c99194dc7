"""A base-currency change (accounts) queues the recompute of the user's converted amounts."""

import logging

from django.dispatch import receiver

from accounts.signals import base_currency_changed

logger = logging.getLogger(__name__)


@receiver(base_currency_changed, dispatch_uid="ledger.currency.recompute_on_base_change")
def queue_recompute(sender, user_id, **kwargs):
    from ledger.currency.tasks import recompute_base_amounts

    try:
        recompute_base_amounts.delay(str(user_id))
    except Exception:  # the change committed: a broker outage must not turn it into a failure
        logger.warning("base_currency_recompute_not_queued", extra={"user_id": str(user_id)}, exc_info=True)
