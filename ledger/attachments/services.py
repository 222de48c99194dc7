"""Every attachment write. The type comes from the file's bytes (an
allow-list), the size cap from ATTACHMENT_MAX_BYTES; the bytes are hashed
once while they are read (sha256 and the CIDv1 of the same digest)."""

import hashlib
import os
import re
import unicodedata

from django.conf import settings
from django.db import transaction as db_transaction
from multiformats import CID, multihash

from config.errors import Conflict, DomainError, PayloadTooLarge
from ledger.attachments.sniffing import EXTENSIONS, SNIFF_BYTES, sniff
from ledger.errors import LedgerErrorCode
from ledger.models import Attachment, Transaction

_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")


class UnsupportedFileType(DomainError):
    status_code = 415
    default_code = LedgerErrorCode.UNSUPPORTED_FILE_TYPE
    default_detail = "Only JPEG, PNG, WebP, HEIC images and PDF documents can be attached."


def filename_clean(name: str, content_type: str) -> str:
    """The client's name without directories, control characters or a leading dot; never empty."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[\\/]", name)[-1]
    name = _UNSAFE.sub("", name).strip().lstrip(".").strip()
    if not name:
        name = "attachment" + EXTENSIONS.get(content_type, "")
    stem, ext = os.path.splitext(name)
    return stem[: 255 - len(ext[:20])] + ext[:20]


def content_digest(upload) -> tuple[str, str]:
    """(sha256 hex, CIDv1 raw/sha2-256/base32) of the whole upload, read in chunks."""
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    raw = digest.digest()
    return raw.hex(), str(CID("base32", 1, "raw", multihash.wrap(raw, "sha2-256")))


def attachment_create(*, user, transaction: Transaction, upload) -> Attachment:
    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise PayloadTooLarge(f"An attachment has at most {settings.ATTACHMENT_MAX_BYTES} bytes.", attr="file")
    upload.seek(0)
    content_type = sniff(upload.read(SNIFF_BYTES))
    if content_type is None:
        raise UnsupportedFileType()
    sha256, cid = content_digest(upload)
    attachment = Attachment(
        user=user,
        transaction=transaction,
        filename=filename_clean(upload.name, content_type),
        content_type=content_type,
        size=upload.size,
        sha256=sha256,
        cid=cid,
    )
    attachment.file.save(attachment.id.hex, upload, save=False)
    try:
        with db_transaction.atomic():
            # The transaction's row lock orders concurrent uploads (the count cap and ipfs_cid).
            tx = Transaction.objects.select_for_update().get(pk=transaction.pk)
            if tx.attachments.count() >= settings.ATTACHMENT_MAX_PER_TRANSACTION:
                raise Conflict(
                    f"A transaction has at most {settings.ATTACHMENT_MAX_PER_TRANSACTION} attachments.",
                    code=LedgerErrorCode.TOO_MANY_ATTACHMENTS,
                )
            attachment.save()
            if not tx.ipfs_cid:
                # The first receipt's content identifier is the transaction's ipfs_cid.
                Transaction.objects.filter(pk=tx.pk).update(ipfs_cid=cid)
    except BaseException:
        attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment


def attachment_delete(*, attachment: Attachment) -> None:
    with db_transaction.atomic():
        tx = Transaction.objects.select_for_update().get(pk=attachment.transaction_id)
        attachment.delete()  # the file goes after commit (ledger.attachments.receivers)
        if tx.ipfs_cid == attachment.cid:
            following = tx.attachments.order_by("created_at", "id").values_list("cid", flat=True).first()
            Transaction.objects.filter(pk=tx.pk).update(ipfs_cid=following or "")


def attachment_file_remove(*, storage, name: str) -> None:
    if name:
        storage.delete(name)
