"""What accounts tells the apps above it (which it may not import).

``session_ended`` is sent after the commit that logged a session out,
revoked it (from a device list, the admin, a password change or reset) or
revoked it because its rotated refresh token was replayed. realtime closes
the session's open sockets on it.

``base_currency_changed`` is sent after the commit that changed a user's base
currency: the ledger recomputes the user's converted amounts."""

from django.dispatch import Signal

# Keyword arguments: session_id, user_id.
session_ended = Signal()

# Keyword arguments: user_id, base_currency.
base_currency_changed = Signal()
