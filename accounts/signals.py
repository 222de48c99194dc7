"""What accounts tells the apps above it (which it may not import).

``session_ended`` is sent after the commit that logged a session out,
revoked it (from a device list, the admin, a password change or reset) or
revoked it because its rotated refresh token was replayed. realtime closes
the session's open sockets on it."""

from django.dispatch import Signal

# Keyword arguments: session_id, user_id.
session_ended = Signal()
