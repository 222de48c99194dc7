"""The fixed category list: the one place it is defined. Merchants, the
ledger and budgets validate against it; GET /api/v1/categories serves it."""

from django.db import models


class Category(models.TextChoices):
    FOOD_DINING = "Food & Dining"
    GROCERIES = "Groceries"
    TRANSPORT = "Transport"
    SHOPPING = "Shopping"
    BILLS_UTILITIES = "Bills & Utilities"
    ENTERTAINMENT = "Entertainment"
    HEALTH = "Health"
    TRAVEL = "Travel"
    HOUSING = "Housing"
    INCOME = "Income"
    TRANSFERS = "Transfers"
    SUBSCRIPTIONS = "Subscriptions"
    EDUCATION = "Education"
    PERSONAL_CARE = "Personal Care"
    FEES_CHARGES = "Fees & Charges"
    UNCATEGORIZED = "Uncategorized"


CATEGORY_NAMES = [choice.value for choice in Category]
CATEGORY_MAX_LENGTH = 32
