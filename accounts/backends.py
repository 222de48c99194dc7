from django.contrib.auth.backends import ModelBackend


class EmailBackend(ModelBackend):
    """Logs in by e-mail, whatever case the user types it in."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        email = kwargs.get("email", username)
        if email is None:
            return None
        return super().authenticate(request, username=email.strip().lower(), password=password)
