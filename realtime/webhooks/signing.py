"""Standard Webhooks signatures (the `standardwebhooks` package)."""

import base64
import secrets
from datetime import datetime

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature_headers(*, msg_id: str, timestamp: datetime, body: str, secrets_: list[str]) -> dict[str, str]:
    """webhook-id, webhook-timestamp and webhook-signature; during a rotation's
    grace period the signature header carries one v1 signature per secret."""
    signatures = " ".join(Webhook(secret).sign(msg_id=msg_id, timestamp=timestamp, data=body) for secret in secrets_)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
    }
