from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "workers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from workers import signals  # noqa: F401 - connects the dead-letter recorder
