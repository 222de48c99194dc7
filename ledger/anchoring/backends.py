"""Where a batch's Merkle root is anchored.

A backend is a class with a ``name`` and two methods:

    anchor(root_hex) -> ref        publish or record the root; return a reference
    verify(root_hex, ref) -> bool  does ``ref`` prove ``root_hex`` was anchored?

Backends are listed by name in ``LEDGER_ANCHOR_BACKENDS`` (name -> dotted
path) and ``LEDGER_ANCHOR_BACKEND`` picks the one new batches use. Each
batch records its backend's name, so older batches still verify with the
backend that anchored them after the setting changes.

A public-chain backend would send a transaction carrying the root (an
OP_RETURN output, or calldata to a contract) and return its transaction id;
``verify`` would read that transaction back and compare. An OpenTimestamps
backend would submit SHA-256(root) to the calendars (``opentimestamps``
client), return the serialised pending receipt (base64) as the ref, and
``verify`` would upgrade and check it against a Bitcoin block header. Both
make network calls, so ``anchor`` should return quickly (a pending receipt)
and any retry happens through the anchoring task's own retries.
"""

import hmac
from functools import lru_cache

from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

LOCAL_SALT = "tally.ledger.anchor.local"


class AnchorBackend:
    name = ""

    def anchor(self, root_hex: str) -> str:
        raise NotImplementedError

    def verify(self, root_hex: str, ref: str) -> bool:
        raise NotImplementedError


class LocalAnchorBackend(AnchorBackend):
    """Records the root in our own database, with an HMAC keyed by
    SECRET_KEY as the reference: someone who can edit the database but does
    not hold the key cannot rewrite a root and its reference together. It is
    no stronger than the key; a public backend removes that trust."""

    name = "local"
    prefix = "local:v1:"

    def _mac(self, root_hex: str, secret) -> str:
        return salted_hmac(LOCAL_SALT, root_hex, secret=secret, algorithm="sha256").hexdigest()

    def anchor(self, root_hex: str) -> str:
        return self.prefix + self._mac(root_hex, settings.SECRET_KEY)

    def verify(self, root_hex: str, ref: str) -> bool:
        if not ref.startswith(self.prefix):
            return False
        given = ref.removeprefix(self.prefix)
        secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
        return any(hmac.compare_digest(given, self._mac(root_hex, secret)) for secret in secrets)


class UnknownAnchorBackend(LookupError):
    pass


@lru_cache(maxsize=16)
def _backend_class(path: str):
    return import_string(path)


def get_anchor_backend(name: str | None = None) -> AnchorBackend:
    name = name or settings.LEDGER_ANCHOR_BACKEND
    try:
        path = settings.LEDGER_ANCHOR_BACKENDS[name]
    except KeyError:
        raise UnknownAnchorBackend(f"No anchor backend named {name!r} in LEDGER_ANCHOR_BACKENDS.") from None
    backend = _backend_class(path)()
    backend.name = name
    return backend
