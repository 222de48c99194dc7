"""Django's admin autodiscovery imports ``ledger.admin``: each sub-package
registers its own models."""

from ledger.anchoring import admin as anchoring_admin  # noqa: F401
from ledger.attachments import admin as attachments_admin  # noqa: F401
from ledger.books import admin as books_admin  # noqa: F401
from ledger.currency import admin as currency_admin  # noqa: F401
from ledger.imports import admin as imports_admin  # noqa: F401
from ledger.portfolio import admin as portfolio_admin  # noqa: F401
from ledger.recurrences import admin as recurrences_admin  # noqa: F401
from ledger.rules import admin as rules_admin  # noqa: F401
from ledger.transactions import admin as transactions_admin  # noqa: F401
