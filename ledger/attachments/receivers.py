"""Storage follows the rows: whenever an Attachment row goes (its own delete,
a purged transaction, a deleted user), its file is removed after commit.
Cascades delete rows without calling a service, so this is the one place
that sees every deletion."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from ledger.attachments.services import attachment_file_remove
from ledger.models import Attachment


@receiver(post_delete, sender=Attachment, dispatch_uid="ledger-attachment-file-remove")
def remove_file(sender, instance, **kwargs):
    storage, name = instance.file.storage, instance.file.name
    transaction.on_commit(lambda: attachment_file_remove(storage=storage, name=name))
