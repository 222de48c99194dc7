from rest_framework.exceptions import ErrorDetail

from config.exceptions import DomainError


class RuleInvalid(DomainError):
    """A rule that cannot be saved or run: one error per problem, each naming
    its place in the rule (`conditions.any[2].all[0].op`, `actions[1].value`)."""

    default_code = "invalid_rule"

    def __init__(self, errors: list[tuple[str, str, str]]):
        # [(path, code, message)] -> {path: ErrorDetail}: the error formatter
        # turns each key into an {attr, code, detail} entry.
        super().__init__(detail="The rule is invalid.")
        self.detail = {path: ErrorDetail(message, code=code) for path, code, message in errors}
        self.errors = errors


class Problems:
    """Collects validation problems while walking a rule."""

    LIMIT = 25

    def __init__(self):
        self.items: list[tuple[str, str, str]] = []

    def add(self, path: str, code: str, message: str):
        if len(self.items) < self.LIMIT and path not in {p for p, _, _ in self.items}:
            self.items.append((path, code, message))

    def raise_if_any(self):
        if self.items:
            raise RuleInvalid(self.items)
