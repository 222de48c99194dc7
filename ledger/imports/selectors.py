from rest_framework.exceptions import NotFound

from ledger.models import ImportJob


def import_job_get(*, user, job_id) -> ImportJob:
    try:
        return ImportJob.objects.defer("content").get(user=user, id=job_id)
    except (ImportJob.DoesNotExist, ValueError):
        raise NotFound("Import job not found.")
