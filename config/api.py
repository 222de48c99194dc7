"""Small pieces every app's API shares."""

# Routers' {id} pattern: only a UUID is an id, so `transactions/import`,
# `merchants/search` and friends never reach a detail route.
UUID_PATTERN = r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
