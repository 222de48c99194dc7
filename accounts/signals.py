"""What accounts tells the apps above it (which it may not import).

``session_ended`` is sent after the commit that logged a session out,
revoked it (from a device list, the admin, a password change or reset) or
revoked it because its rotated refresh token was replayed. realtime closes
the session's open sockets on it.

``base_currency_changing`` is sent inside the transaction that changes a
user's base currency, before it commits: apps that store amounts in the base
currency convert them in the same transaction (budgets convert their amounts
at the change date's rate). Each receiver returns a dict (or None) that the
change's answer carries (``auth/me``'s ``base_currency_change``).

``base_currency_changed`` is sent after the commit that changed a user's base
currency: the ledger recomputes the user's converted amounts."""

from django.dispatch import Signal

# Keyword arguments: session_id, user_id.
session_ended = Signal()

# Keyword arguments: user_id, old, new, on (the change's date). Receivers return a dict or None.
base_currency_changing = Signal()

# Keyword arguments: user_id, base_currency.
base_currency_changed = Signal()
