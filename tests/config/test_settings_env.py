"""`.env.example` lists every setting the code reads from the environment, and
nothing the code does not read; the e-mails link to FRONTEND_URL only when set."""

import re
from pathlib import Path

from django.core import mail

ROOT = Path(__file__).resolve().parents[2]
# env("X"), env.bool("X", ...), env.db("X"), os.environ.get("X"), os.environ["X"], ${X:-...}
_READS = re.compile(
    r"""\benv(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]+)["']"""
    r"""|os\.environ(?:\.get\(|\.setdefault\(|\[)\s*["']([A-Z][A-Z0-9_]+)["']"""
)
_SHELL_READS = re.compile(r"\$\{([A-Z][A-Z0-9_]+)")
# Read by the tooling around the code, not by Tally: Django's own, xdist's, the test helpers'.
_NOT_SETTINGS = {"DJANGO_SETTINGS_MODULE", "PYTEST_XDIST_WORKER", "TEST_REDIS_DB_BASE"}


def _read_by_code() -> set[str]:
    names = set()
    sources = [ROOT / "config" / "settings.py", ROOT / "config" / "serve.py", ROOT / "manage.py"]
    for source in sources:
        for match in _READS.finditer(source.read_text()):
            names.add(match.group(1) or match.group(2))
    for shell_source in ("Procfile", "Makefile"):
        names.update(_SHELL_READS.findall((ROOT / shell_source).read_text()))
    return names - _NOT_SETTINGS


def _listed_in_example() -> set[str]:
    listed = set()
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.match(r"^#?\s*([A-Z][A-Z0-9_]+)=", line)
        if match:
            listed.add(match.group(1))
    return listed


def test_env_example_lists_every_setting_the_code_reads():
    missing = _read_by_code() - _listed_in_example()
    assert not missing, f"read by the code but not in .env.example: {sorted(missing)}"


def test_env_example_lists_nothing_the_code_ignores():
    unknown = _listed_in_example() - _read_by_code()
    assert not unknown, f"in .env.example but read by nothing: {sorted(unknown)}"


def _verification_mail(api_client, user, django_capture_on_commit_callbacks):
    from accounts.services import email_verification_send

    user.is_verified = False
    user.save(update_fields=["is_verified"])
    with django_capture_on_commit_callbacks(execute=True):
        email_verification_send(user=user)
    return mail.outbox[-1].body


def test_without_frontend_url_the_mail_carries_the_api_call(
    settings, user, api_client, django_capture_on_commit_callbacks
):
    settings.FRONTEND_URL = ""
    body = _verification_mail(api_client, user, django_capture_on_commit_callbacks)

    assert "http" not in body
    assert "POST /api/v1/auth/verify-email/confirm" in body
    assert re.search(r"uid: \S+\ntoken: \S+", body)


def test_with_frontend_url_the_mail_links_to_it(settings, user, api_client, django_capture_on_commit_callbacks):
    settings.FRONTEND_URL = "https://app.example.com"
    body = _verification_mail(api_client, user, django_capture_on_commit_callbacks)

    assert re.search(r"https://app\.example\.com/verify-email\?uid=\S+&token=\S+", body)
