from django.apps import AppConfig


class WorkersConfig(AppConfig):
    name = "workers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from prometheus_client import REGISTRY

        from workers import signals  # noqa: F401 - connects the dead-letter recorder
        from workers.metrics import TallyCollector

        if not any(isinstance(c, TallyCollector) for c in list(REGISTRY._collector_to_names)):
            REGISTRY.register(TallyCollector())
