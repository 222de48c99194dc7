"""The ledger's error codes (the ``code`` of each error body it raises)."""

import enum


class LedgerErrorCode(enum.StrEnum):
    INVALID = "invalid"
    INVALID_CHOICE = "invalid_choice"
    BLANK = "blank"
    MIN_VALUE = "min_value"
    MAX_VALUE = "max_value"
    MAX_DIGITS = "max_digits"
    MAX_DECIMAL_PLACES = "max_decimal_places"
    MAX_LENGTH = "max_length"
    # transactions
    DUPLICATE = "duplicate"
    UNCHANGED = "unchanged"
    # imports
    ENCODING = "encoding"
    EMPTY = "empty"
    BAD_HEADER = "bad_header"
    TOO_MANY_ROWS = "too_many_rows"
    # anchoring
    FUTURE_BATCH = "future_batch"
    NO_BATCH = "no_batch"
    NOT_ANCHORED = "not_anchored"
    PROOF_UNAVAILABLE = "proof_unavailable"
    ANCHORED = "anchored"
    # portfolio
    OLDER_VALUATION = "older_valuation"
    # attachments
    UNSUPPORTED_FILE_TYPE = "unsupported_file_type"
    TOO_MANY_ATTACHMENTS = "too_many_attachments"
