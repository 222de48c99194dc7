from config.selectors import get_or_not_found
from ledger.models import Attachment


def attachment_list(*, user, transaction):
    return Attachment.objects.filter(user=user, transaction=transaction).order_by("created_at", "id")


def attachment_get(*, user, attachment_id) -> Attachment:
    """The caller's attachment; another user's is a 404 like a missing one."""
    return get_or_not_found(Attachment.objects.filter(user=user), "Attachment not found.", pk=attachment_id)
