"""The fixed category list: the one place it is defined. Merchants, the
ledger and budgets validate against it; GET /api/v1/categories serves it."""

from django.db import models


class Category(models.TextChoices):
    # The label is the value: derived from the member name, "Food & Dining" would read "Food Dining".
    FOOD_DINING = "Food & Dining", "Food & Dining"
    GROCERIES = "Groceries", "Groceries"
    TRANSPORT = "Transport", "Transport"
    SHOPPING = "Shopping", "Shopping"
    BILLS_UTILITIES = "Bills & Utilities", "Bills & Utilities"
    ENTERTAINMENT = "Entertainment", "Entertainment"
    HEALTH = "Health", "Health"
    TRAVEL = "Travel", "Travel"
    HOUSING = "Housing", "Housing"
    INCOME = "Income", "Income"
    TRANSFERS = "Transfers", "Transfers"
    SUBSCRIPTIONS = "Subscriptions", "Subscriptions"
    EDUCATION = "Education", "Education"
    PERSONAL_CARE = "Personal Care", "Personal Care"
    FEES_CHARGES = "Fees & Charges", "Fees & Charges"
    UNCATEGORIZED = "Uncategorized", "Uncategorized"


CATEGORY_NAMES = [choice.value for choice in Category]
CATEGORY_MAX_LENGTH = 32
