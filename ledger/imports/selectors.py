from django.db.models import Q, QuerySet

from config.selectors import get_or_not_found
from ledger.models import Import, ImportJob, ImportProfile, ImportRow


def import_job_get(*, user, job_id) -> ImportJob:
    return get_or_not_found(ImportJob.objects.defer("content").filter(user=user), "Import job not found.", id=job_id)


def import_list(*, user) -> QuerySet[Import]:
    return Import.objects.filter(user=user).select_related("account", "profile").order_by("-created_at", "-id")


def import_get(*, user, import_id) -> Import:
    return get_or_not_found(import_list(user=user), "Import not found.", id=import_id)


def import_rows(*, source: Import, fate: str | None = None) -> QuerySet[ImportRow]:
    rows = ImportRow.objects.filter(source_import=source).order_by("row_number")
    return rows.filter(fate=fate) if fate else rows


def import_profile_list(*, user) -> QuerySet[ImportProfile]:
    """The built-in profiles and the user's own, built-ins first."""
    return ImportProfile.objects.filter(Q(user__isnull=True) | Q(user=user)).order_by("user_id", "name")


def import_profile_get(*, user, profile_id) -> ImportProfile:
    return get_or_not_found(import_profile_list(user=user), "Import profile not found.", id=profile_id)
