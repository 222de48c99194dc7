from rest_framework.exceptions import ErrorDetail

from config.errors import Invalid


class RuleInvalid(Invalid):
    """A rule that cannot be saved or run: one error per problem, each naming
    its place in the rule (`conditions.any[2].all[0].op`, `actions[1].value`)
    with its own code."""

    default_code = "invalid_rule"

    def __init__(self, problems: list[tuple[str, str, str]]):
        super().__init__("The rule is invalid.", attr=problems[0][0] if problems else None)
        # {path: [message with its code]}: the kernel turns each into an {attr, code, detail} entry.
        self.errors = {path: [ErrorDetail(message, code=code)] for path, code, message in problems}
        self.problems = problems


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
