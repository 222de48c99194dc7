from celery import shared_task

from accounts import services
from config.tasks import MAX_RETRIES_DATABASE, TallyTask


@shared_task(name="accounts.cleanup_expired_sessions", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def cleanup_expired_sessions():
    return services.sessions_cleanup_expired()
