"""The merchants app's error codes."""

import enum


class MerchantErrorCode(enum.StrEnum):
    INVALID = "invalid"
    BLANK = "blank"
    REQUIRED = "required"
    NOT_FOUND = "not_found"
    DUPLICATE_NAME = "duplicate_name"
    DUPLICATE_ALIAS = "duplicate_alias"
    DUPLICATE_NEAR = "duplicate_near"
    MERGE_CONFLICT = "merge_conflict"
