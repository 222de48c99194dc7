from channels.auth import AuthMiddlewareStack


def JWTAuthMiddlewareStack(inner):  # noqa: N802 - mirrors channels' AuthMiddlewareStack
    """Placeholder until the realtime issue adds JWT/ticket authentication."""
    return AuthMiddlewareStack(inner)
