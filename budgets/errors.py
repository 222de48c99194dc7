"""The budgets app's error codes."""

import enum


class BudgetErrorCode(enum.StrEnum):
    INVALID = "invalid"
    DUPLICATE = "duplicate"
    ALREADY_RENEWED = "already_renewed"
    NOT_ENDED = "not_ended"
    PERIODS_MISSED = "periods_missed"
