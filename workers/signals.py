"""Connects Celery's failure signal to DeadLetter. task_failure fires once a
task has failed for good: a permanent error, or a transient one after its
last retry (a retry itself sends task_retry, not task_failure)."""

from celery.signals import task_failure


@task_failure.connect
def record_dead_letter(sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None, **extra):
    from workers.services import dead_letter_record

    dead_letter_record(
        task_name=getattr(sender, "name", str(sender)),
        task_id=task_id or "",
        args=list(args or []),
        kwargs=dict(kwargs or {}),
        exception=f"{type(exception).__name__}: {exception}",
        traceback=str(einfo) if einfo else "",
    )
