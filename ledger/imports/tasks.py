from celery import shared_task

from ledger.imports import services


@shared_task(name="ledger.import_transactions")
def import_transactions(job_id: str) -> dict:
    return services.import_job_run(job_id=job_id)
