"""Attachments through django-storages' S3Storage (ATTACHMENT_STORAGE=s3)
against an S3-compatible server in this process: moto's server on loopback,
spoken to over HTTP by boto3 exactly as a real bucket would be."""

import uuid

import boto3
import pytest
from botocore.exceptions import ClientError
from django.core.files.uploadedfile import SimpleUploadedFile
from moto.server import ThreadedMotoServer

from ledger.models import Attachment
from tests.ledger.attachments import files
from tests.ledger.factories import TransactionFactory

pytestmark = pytest.mark.django_db
CREDENTIALS = {"aws_access_key_id": "tally-test", "aws_secret_access_key": "tally-test-secret"}
REGION = "us-east-1"


@pytest.fixture(scope="module")
def s3_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(settings, s3_endpoint):
    name = f"tally-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name=REGION, **CREDENTIALS)
    client.create_bucket(Bucket=name)
    # What ATTACHMENT_STORAGE=s3 configures, with this server as the endpoint.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": s3_endpoint,
                "region_name": REGION,
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "default_acl": "private",
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    client.bucket_name = name
    return client


def _object(bucket, key):
    try:
        return bucket.get_object(Bucket=bucket.bucket_name, Key=key)["Body"].read()
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "NoSuchKey":
            return None
        raise


def test_an_attachment_is_stored_read_and_removed_through_s3(
    auth_client, user, bucket, django_capture_on_commit_callbacks
):
    from storages.backends.s3 import S3Storage

    tx = TransactionFactory(user=user)
    content = files.pdf()

    response = auth_client.post(
        f"/api/v1/transactions/{tx.id}/attachments",
        {"file": SimpleUploadedFile("receipt.pdf", content, "application/pdf")},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    attachment = Attachment.objects.get(pk=body["id"])
    assert isinstance(attachment.file.storage._wrapped, S3Storage)
    key = f"attachments/{user.id}/{body['id']}"
    assert attachment.file.name == key
    assert _object(bucket, key) == content  # in the bucket, byte for byte
    head = bucket.head_object(Bucket=bucket.bucket_name, Key=key)
    assert head["ContentLength"] == len(content)

    download = auth_client.get(body["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == content
    assert download["Content-Type"] == "application/pdf"

    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(body["url"]).status_code == 204
    assert _object(bucket, key) is None


def test_a_refused_upload_leaves_nothing_in_the_bucket(auth_client, user, bucket):
    tx = TransactionFactory(user=user)

    response = auth_client.post(
        f"/api/v1/transactions/{tx.id}/attachments",
        {"file": SimpleUploadedFile("receipt.pdf", files.ELF, "application/pdf")},
        format="multipart",
    )

    assert response.status_code == 415
    assert bucket.list_objects_v2(Bucket=bucket.bucket_name).get("KeyCount") == 0
