from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # daphne's access log bypasses `logging`; redact ?token=/?ticket= in it too.
        from realtime.logging import patch_daphne_access_log

        patch_daphne_access_log()
