"""Which queue each task runs on: the one table (task name -> queue).

high_priority: a user is waiting (imports). default: alerts, scoring, e-mail.
low_priority: cleanup. scheduled: nightly jobs.
"""

QUEUES = ("high_priority", "default", "low_priority", "scheduled")

TASK_ROUTES = {
    "workers.ping": {"queue": "default"},
}
