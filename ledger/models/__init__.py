"""Every ledger model, one module per sub-package, re-exported so that
``from ledger.models import Transaction`` works wherever it did before."""

from ledger.models.anchoring import MerkleBatch, MerkleChunk
from ledger.models.attachments import Attachment
from ledger.models.books import Account, Reconciliation, Transfer, TransferSuggestion
from ledger.models.currency import ExchangeRate
from ledger.models.imports import Import, ImportJob, ImportProfile, ImportRow
from ledger.models.portfolio import PortfolioHolding
from ledger.models.recurrences import Recurrence
from ledger.models.rules import Rule
from ledger.models.transactions import (
    CategoryCorrection,
    SplitLine,
    Tag,
    Transaction,
    TransactionChange,
    TransactionTag,
)

__all__ = [
    "Account",
    "Attachment",
    "CategoryCorrection",
    "ExchangeRate",
    "Import",
    "ImportJob",
    "ImportProfile",
    "ImportRow",
    "MerkleBatch",
    "MerkleChunk",
    "PortfolioHolding",
    "Reconciliation",
    "Recurrence",
    "Rule",
    "SplitLine",
    "Tag",
    "Transaction",
    "Transfer",
    "TransferSuggestion",
    "TransactionChange",
    "TransactionTag",
]
