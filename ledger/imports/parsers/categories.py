"""Tally's category names, for mapping a bank's own label by name. The parsers
layer keeps its own copy so it imports without Django; the services layer
checks it against merchants.categories."""

TALLY_CATEGORIES = (
    "Food & Dining",
    "Groceries",
    "Transport",
    "Shopping",
    "Bills & Utilities",
    "Entertainment",
    "Health",
    "Travel",
    "Housing",
    "Income",
    "Transfers",
    "Subscriptions",
    "Education",
    "Personal Care",
    "Fees & Charges",
    "Uncategorized",
)
IGNORE = "ignore"
_BY_NAME = {name.casefold(): name for name in TALLY_CATEGORIES}


class CategoryMapper:
    """Bank label -> Tally category: the profile's map first (exact, then
    case-insensitive), then Tally's own names, else "" (left to
    categorisation). Results are cached per label: a file has few labels."""

    def __init__(self, category_map: dict[str, str]):
        self._exact = dict(category_map)
        self._folded = {key.casefold(): value for key, value in category_map.items()}
        self._cache: dict[str, str] = {}

    def __call__(self, label: str) -> str:
        if not label:
            return ""
        found = self._cache.get(label)
        if found is None:
            found = self._exact.get(label)
            if found is None:
                found = self._folded.get(label.casefold())
            if found is None:
                found = _BY_NAME.get(label.casefold(), "")
            elif found.casefold() == IGNORE:
                found = IGNORE
            else:
                found = _BY_NAME.get(found.casefold(), found)
            self._cache[label] = found
        return found
