"""The retry policy moved to the config kernel (config/tasks.py); these names
stay importable from here."""

from config.tasks import MAX_RETRIES_DATABASE, MAX_RETRIES_EMAIL, TRANSIENT_ERRORS, TallyTask

__all__ = ["MAX_RETRIES_DATABASE", "MAX_RETRIES_EMAIL", "TRANSIENT_ERRORS", "TallyTask"]
