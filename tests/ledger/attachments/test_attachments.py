import hashlib
import uuid

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from multiformats import CID

from ledger.models import Attachment, Transaction
from tests.ledger.attachments import files
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


@pytest.fixture
def tx(user):
    return TransactionFactory(user=user)


def _upload(client, tx_id, content, name="receipt.bin", content_type="application/octet-stream"):
    return client.post(
        f"/api/v1/transactions/{tx_id}/attachments",
        {"file": SimpleUploadedFile(name, content, content_type)},
        format="multipart",
    )


@pytest.mark.parametrize(
    "content, content_type",
    [
        (files.JPEG, "image/jpeg"),
        (files.png(), "image/png"),
        (files.pdf(), "application/pdf"),
        (files.WEBP, "image/webp"),
        (files.heic(), "image/heic"),
    ],
)
def test_each_allowed_type_is_stored_hashed_and_downloadable(auth_client, tx, content, content_type):
    response = _upload(auth_client, tx.id, content, name="scan.dat")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == content_type and body["size"] == len(content)
    assert body["sha256"] == hashlib.sha256(content).hexdigest()
    cid = CID.decode(body["cid"])
    assert cid.version == 1 and cid.codec.name == "raw" and cid.hashfun.name == "sha2-256"
    assert cid.raw_digest == hashlib.sha256(content).digest() and body["cid"].startswith("b")
    download = auth_client.get(body["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Type"] == content_type
    assert download["Content-Disposition"].startswith("attachment;") and "scan.dat" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"


def test_a_renamed_executable_is_refused(auth_client, tx):
    for content in (files.ELF, files.WINDOWS_EXE, b"<html><script>alert(1)</script></html>"):
        response = _upload(auth_client, tx.id, content, name="receipt.pdf", content_type="application/pdf")
        assert response.status_code == 415, response.content
        assert response.json()["errors"][0]["code"] == "unsupported_file_type"
    assert not Attachment.objects.exists()


def test_over_the_size_limit_is_413(auth_client, tx, settings, media):
    settings.ATTACHMENT_MAX_BYTES = 1000
    response = _upload(auth_client, tx.id, files.pdf() + b"%" * 1000)
    assert response.status_code == 413 and response.json()["errors"][0]["code"] == "too_large"
    assert not Attachment.objects.exists() and not any(media.rglob("*.*"))


def test_the_first_receipt_fills_ipfs_cid_and_deleting_it_moves_it_on(auth_client, tx):
    first = _upload(auth_client, tx.id, files.JPEG).json()
    second = _upload(auth_client, tx.id, files.png()).json()
    tx.refresh_from_db()
    assert tx.ipfs_cid == first["cid"]

    assert auth_client.delete(first["url"]).status_code == 204

    tx.refresh_from_db()
    assert tx.ipfs_cid == second["cid"]
    listed = auth_client.get(f"/api/v1/transactions/{tx.id}/attachments").json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == second["id"]


def test_delete_removes_the_file(auth_client, tx, django_capture_on_commit_callbacks):
    body = _upload(auth_client, tx.id, files.pdf()).json()
    name = Attachment.objects.get(pk=body["id"]).file.name
    assert default_storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(body["url"]).status_code == 204

    assert not default_storage.exists(name) and not Attachment.objects.exists()
    assert auth_client.get(body["url"]).status_code == 404


def test_another_users_attachment_is_404(auth_client, other_client, tx, other_user):
    body = _upload(auth_client, tx.id, files.JPEG).json()

    assert other_client.get(body["url"]).status_code == 404
    assert other_client.delete(body["url"]).status_code == 404
    assert other_client.get(f"/api/v1/transactions/{tx.id}/attachments").status_code == 404
    assert _upload(other_client, tx.id, files.JPEG).status_code == 404
    assert Attachment.objects.count() == 1


def test_download_needs_a_token(api_client, auth_client, tx):
    body = _upload(auth_client, tx.id, files.JPEG).json()
    assert api_client.get(body["url"]).status_code == 401


@pytest.mark.parametrize(
    "name, expected",
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\me\\scan.pdf", "scan.pdf"),
        ("re\x00ce\x1bipt\x07.pdf", "receipt.pdf"),
        ("...", "attachment.pdf"),
    ],
)
def test_filenames_are_sanitised(auth_client, tx, name, expected):
    body = _upload(auth_client, tx.id, files.pdf(), name=name).json()
    assert body["filename"] == expected
    stored = Attachment.objects.get(pk=body["id"]).file.name
    assert stored == f"attachments/{tx.user_id}/{body['id']}"


def test_no_file_is_400_and_deleted_transactions_take_none(auth_client, tx):
    response = auth_client.post(f"/api/v1/transactions/{tx.id}/attachments", {}, format="multipart")
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "file"
    Transaction.objects.filter(pk=tx.pk).update(is_deleted=True)
    assert _upload(auth_client, tx.id, files.JPEG).status_code == 404


def test_soft_deleted_transactions_keep_attachments_and_purging_removes_files(
    auth_client, tx, django_capture_on_commit_callbacks
):
    body = _upload(auth_client, tx.id, files.JPEG).json()
    name = Attachment.objects.get(pk=body["id"]).file.name
    assert auth_client.delete(f"/api/v1/transactions/{tx.id}").status_code == 204
    assert Attachment.objects.filter(pk=body["id"]).exists() and default_storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        Transaction.objects.filter(pk=tx.pk).delete()  # a purge: rows and files go

    assert not Attachment.objects.exists() and not default_storage.exists(name)


def test_deleting_a_user_removes_their_files_and_no_one_elses(
    auth_client, other_client, user, other_user, django_capture_on_commit_callbacks
):
    mine = [
        _upload(auth_client, TransactionFactory(user=user).id, content).json() for content in (files.JPEG, files.pdf())
    ]
    theirs = _upload(other_client, TransactionFactory(user=other_user).id, files.png()).json()
    names = {a.pk: a.file.name for a in Attachment.objects.all()}
    assert all(default_storage.exists(name) for name in names.values())

    with django_capture_on_commit_callbacks(execute=True):
        user.delete()

    assert list(Attachment.objects.values_list("id", flat=True)) == [uuid.UUID(theirs["id"])]
    for body in mine:
        assert not default_storage.exists(names[uuid.UUID(body["id"])])
    assert default_storage.exists(names[uuid.UUID(theirs["id"])])


def test_transaction_list_shows_counts_and_filters_on_attachments(auth_client, user, tx):
    bare = TransactionFactory(user=user)
    _upload(auth_client, tx.id, files.JPEG)
    _upload(auth_client, tx.id, files.pdf())

    rows = {row["id"]: row for row in auth_client.get("/api/v1/transactions").json()["results"]}
    assert rows[str(tx.id)]["attachment_count"] == 2 and rows[str(bare.id)]["attachment_count"] == 0
    only = auth_client.get("/api/v1/transactions?has_attachments=true").json()["results"]
    assert [row["id"] for row in only] == [str(tx.id)]
    without = auth_client.get("/api/v1/transactions?has_attachments=false").json()["results"]
    assert [row["id"] for row in without] == [str(bare.id)]
    assert auth_client.get(f"/api/v1/transactions/{tx.id}").json()["attachment_count"] == 2


def test_too_many_attachments_is_409(auth_client, tx, settings):
    settings.ATTACHMENT_MAX_PER_TRANSACTION = 1
    assert _upload(auth_client, tx.id, files.JPEG).status_code == 201
    response = _upload(auth_client, tx.id, files.png())
    assert response.status_code == 409 and response.json()["errors"][0]["code"] == "too_many_attachments"


def test_filename_clean_drops_newlines_and_keeps_a_short_extension():
    from ledger.attachments.services import filename_clean

    assert filename_clean("a\r\nb/../c\r\n.pdf", "application/pdf") == "c.pdf"
    assert filename_clean("", "image/png") == "attachment.png"
    assert len(filename_clean("x" * 400 + ".jpeg", "image/jpeg")) == 255
