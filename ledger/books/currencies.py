"""The ISO 4217 list lives in config.currencies (accounts validates base
currencies with it too); re-exported here for the books' callers."""

from config.currencies import ISO_4217, is_currency

__all__ = ["ISO_4217", "is_currency"]
