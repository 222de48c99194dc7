from celery import shared_task

from config.tasks import MAX_RETRIES_DATABASE, TallyTask
from ledger.imports import commits, sweeps


class CommitImportTask(TallyTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # Out of retries or a permanent error: the import ends failed, never running forever.
        commits.import_fail(import_id=(args or [kwargs.get("import_id")])[0], error=f"{type(exc).__name__}: {exc}")
        super().on_failure(exc, task_id, args, kwargs, einfo)


@shared_task(name="ledger.commit_import", base=CommitImportTask, max_retries=MAX_RETRIES_DATABASE)
def commit_import(import_id: str) -> dict:
    """Writes a big import's rows (queued by POST imports/{id}/commit and POST transactions/import)."""
    return commits.import_commit_run(import_id=import_id)


@shared_task(name="ledger.sweep_imports", base=TallyTask, max_retries=MAX_RETRIES_DATABASE)
def sweep_imports() -> dict:
    """Resumes or fails stranded commits, expires old previews (every 5 minutes)."""
    return sweeps.imports_sweep()
