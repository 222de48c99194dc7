"""realtime's error codes (webhooks)."""

import enum


class RealtimeErrorCode(enum.StrEnum):
    INVALID_CHOICE = "invalid_choice"
    EMPTY = "empty"
    ENDPOINT_DISABLED = "endpoint_disabled"
