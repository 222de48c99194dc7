from config.selectors import get_or_not_found
from ledger.models import ImportJob


def import_job_get(*, user, job_id) -> ImportJob:
    return get_or_not_found(ImportJob.objects.defer("content").filter(user=user), "Import job not found.", id=job_id)
