"""The base Celery task every app's tasks use, and the retry policy.

Transient errors (the database or Redis went away, a timeout) retry with
exponential backoff, jitter and a cap; anything else is permanent and fails
at once. A task that fails for good lands in workers' DeadLetter (routing,
dead letters and schedules live in workers/). Per-task max_retries:
database work 5, e-mail 2."""

import smtplib
import socket

import redis
from celery import Task
from django.db import InterfaceError, OperationalError

TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    redis.ConnectionError,
    redis.TimeoutError,
    TimeoutError,
    ConnectionError,
    socket.timeout,
    smtplib.SMTPServerDisconnected,
)

MAX_RETRIES_DATABASE = 5
MAX_RETRIES_EMAIL = 2


class TallyTask(Task):
    """Base class: pass ``base=TallyTask`` to @shared_task."""

    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = 2  # seconds for the first retry, doubling each time
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = MAX_RETRIES_DATABASE
    acks_late = True
    reject_on_worker_lost = True
