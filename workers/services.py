import json
import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_celery_results.models import TaskResult

from workers.models import DeadLetter

logger = logging.getLogger(__name__)


def _json_safe(value):
    """Task arguments are JSON already (JSON serializer); anything odd is
    kept as its repr rather than failing the dead-letter write."""
    try:
        json.dumps(value)
        return value
    except (TypeError, ValueError):
        return repr(value)


def dead_letter_record(*, task_name, task_id, args, kwargs, exception, traceback) -> DeadLetter | None:
    try:
        return DeadLetter.objects.create(
            task_name=task_name,
            task_id=task_id,
            args=_json_safe(args),
            kwargs=_json_safe(kwargs),
            exception=exception[:10000],
            traceback=traceback[:50000],
        )
    except Exception:  # never let bookkeeping mask the task's own failure
        logger.exception("could not record dead letter for %s", task_name)
        return None


@transaction.atomic
def dead_letter_requeue(*, dead_letter: DeadLetter) -> str:
    """Sends the task again with its original arguments (routed by name like
    any other send) and records when."""
    from config.celery import app

    dead_letter = DeadLetter.objects.select_for_update().get(pk=dead_letter.pk)
    result = app.send_task(dead_letter.task_name, args=dead_letter.args, kwargs=dead_letter.kwargs)
    dead_letter.requeued_at = timezone.now()
    dead_letter.requeue_count += 1
    dead_letter.save(update_fields=["requeued_at", "requeue_count"])
    return result.id


def task_results_cleanup(*, older_than_days: int = 14, now=None) -> int:
    cutoff = (now or timezone.now()) - timedelta(days=older_than_days)
    deleted, _ = TaskResult.objects.filter(date_done__lt=cutoff).delete()
    return deleted


def weekly_summary_send(*, user, week_start, week_end) -> bool:
    """Mails one user's summary for the week, once: a second run for the same
    week finds the delivery row and sends nothing."""
    from django.db import IntegrityError

    from workers.models import WeeklySummaryDelivery
    from workers.selectors import weekly_summary_build

    if WeeklySummaryDelivery.objects.filter(user=user, week_start=week_start).exists():
        return False
    summary = weekly_summary_build(user=user, week_start=week_start, week_end=week_end)
    context = {"user": user, "summary": summary, "currency": summary["currency"]}
    subject = f"Your week in money: {week_start:%d %b} – {week_end:%d %b %Y}"
    message = _email_from_templates(user=user, subject=subject, template="emails/weekly_summary", context=context)
    try:
        with transaction.atomic():
            WeeklySummaryDelivery.objects.create(user=user, week_start=week_start)
            # Sent inside the atomic block: if the mail server refuses, the
            # delivery row rolls back and a retry sends it.
            message.send(fail_silently=False)
    except IntegrityError:
        return False  # a concurrent run sent it
    return True


def weekly_summaries_send(*, today) -> dict:
    from workers.selectors import week_bounds, weekly_summary_recipients

    week_start, week_end = week_bounds(today)
    counts = _send_to_each(
        weekly_summary_recipients(week_start=week_start, week_end=week_end),
        lambda user: weekly_summary_send(user=user, week_start=week_start, week_end=week_end),
    )
    return {"week_start": week_start.isoformat(), **counts}


def monthly_report_send(*, user, month_start, month_end) -> bool:
    """Sends one user's report for the month, once: a Notification (in the
    feed and on the socket) and an e-mail. A second run for the same month
    finds the delivery row and sends nothing; a refused e-mail rolls back the
    row and the Notification, so the retry sends both."""
    from django.db import IntegrityError

    from realtime.services import notify_monthly_report
    from workers.models import MonthlyReportDelivery
    from workers.selectors import monthly_report_build

    if MonthlyReportDelivery.objects.filter(user=user, month=month_start).exists():
        return False
    report = monthly_report_build(user=user, month_start=month_start, month_end=month_end)
    context = {"user": user, "report": report, "currency": report["currency"]}
    subject = f"Your {month_start:%B %Y} in money"
    message = _email_from_templates(user=user, subject=subject, template="emails/monthly_report", context=context)
    try:
        with transaction.atomic():
            MonthlyReportDelivery.objects.create(user=user, month=month_start)
            notify_monthly_report(user_id=user.pk, report=report)
            message.send(fail_silently=False)
    except IntegrityError:
        return False  # a concurrent run sent it
    return True


def monthly_reports_send(*, today) -> dict:
    from workers.selectors import month_bounds, monthly_report_recipients

    month_start, month_end = month_bounds(today)
    counts = _send_to_each(
        monthly_report_recipients(month_start=month_start, month_end=month_end),
        lambda user: monthly_report_send(user=user, month_start=month_start, month_end=month_end),
    )
    return {"month": month_start.strftime("%Y-%m"), **counts}


def _email_from_templates(*, user, subject, template, context):
    """The text and HTML parts of one mail from `<template>.txt` and `<template>.html`."""
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives
    from django.template.loader import render_to_string

    message = EmailMultiAlternatives(
        subject, render_to_string(f"{template}.txt", context), settings.DEFAULT_FROM_EMAIL, [user.email]
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message


def _send_to_each(recipients, send) -> dict:
    """Runs a once-per-period send for each recipient; `send` answers False when it was already sent."""
    sent = skipped = 0
    for user in recipients.iterator():
        if send(user):
            sent += 1
        else:
            skipped += 1
    return {"sent": sent, "skipped": skipped}
