"""Balance checks: a file that does not add up gets a warning, never an error.
All arithmetic is Decimal."""

from decimal import Decimal

from .types import Statement


class RunningBalance:
    """Checks a running-balance column against the amounts.

    Tally amounts are positive for money out. A checking account's balance
    falls by the amount (a card's owed balance rises by it), and files are
    sorted oldest-first or newest-first; all four readings are tried and the
    one with the fewest breaks is reported."""

    # (sign, newest_first): newest-first files have balance[i-1] = balance[i] - bank effect of row i-1.
    _READINGS = ((-1, False), (-1, True), (1, False), (1, True))

    def __init__(self):
        self.previous: tuple[Decimal, Decimal] | None = None
        self.breaks = {reading: [] for reading in self._READINGS}
        self.checked = 0

    def add(self, row_number: int, amount: Decimal, balance: Decimal | None) -> None:
        if balance is None:
            self.previous = None
            return
        if self.previous is not None:
            self.checked += 1
            before, before_amount = self.previous
            for sign, newest_first in self._READINGS:
                change = before_amount if newest_first else amount
                expected = before - sign * change if newest_first else before + sign * change
                if expected != balance:
                    self.breaks[(sign, newest_first)].append(row_number)
        self.previous = (balance, amount)

    def warnings(self) -> list[str]:
        if not self.checked:
            return []
        rows = min(self.breaks.values(), key=len)
        if not rows:
            return []
        shown = ", ".join(str(number) for number in rows[:5])
        return [f"running balance does not follow the amounts at {len(rows)} row(s), first at rows {shown}"]


def statement_warning(statement: Statement, total_out: Decimal, had_errors: bool) -> str:
    """The rows should take the opening balance to the closing one (total_out is the sum of Tally amounts)."""
    if statement.opening_balance is None or statement.closing_balance is None:
        return ""
    expected = statement.opening_balance - total_out
    if expected == statement.closing_balance:
        return ""
    note = " (some rows had errors)" if had_errors else ""
    return (
        f"balance mismatch: opening {statement.opening_balance} and the rows give {expected}, "
        f"file says {statement.closing_balance}{note}"
    )
