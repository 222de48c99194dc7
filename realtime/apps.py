from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # daphne's access log bypasses `logging`; redact ?token=/?ticket= in it too.
        from realtime.logging import patch_daphne_access_log

        patch_daphne_access_log()

        # A session that ends (logout, revoke, password change) closes its sockets.
        from accounts.signals import session_ended
        from realtime.services import session_sockets_close

        session_ended.connect(session_sockets_close, dispatch_uid="realtime.session_sockets_close")
