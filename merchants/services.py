"""Merchant writes and matching.

CONTRACT used by the ledger (keep these signatures):
- normalize_merchant_text(raw) -> str: the comparison key for a merchant
  string (lowercase, store numbers / card-processor noise stripped,
  whitespace collapsed). The ledger stores it in
  Transaction.merchant_normalized and detects duplicates on it.
- match_merchant(raw_text) -> MerchantMatch | None: the best merchant above
  the confidence cut-off, for every new transaction.
"""

import re
import unicodedata
from dataclasses import dataclass

from merchants.models import Merchant

_NOISE = re.compile(r"[#*]\s*\d+|\b\d{3,}\b|[^\w\s&'.-]")
_SPACES = re.compile(r"\s+")


def normalize_merchant_text(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw or "").lower()
    text = _NOISE.sub(" ", text)
    return _SPACES.sub(" ", text).strip(" .-'")


@dataclass(frozen=True)
class MerchantMatch:
    merchant: Merchant
    score: float
    method: str  # exact | alias | prefix | fuzzy


def match_merchant(raw_text: str) -> MerchantMatch | None:
    """Placeholder until the merchants issue lands its tiered search."""
    return None
