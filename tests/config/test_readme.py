"""The README stands alone: no path outside the repository, every repository
path it names in backticks exists, and the quickstart's endpoints are real."""

import re
from pathlib import Path

from django.urls import resolve

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_nothing_points_outside_the_repository():
    assert "../" not in README
    assert "shared/DESIGN" not in README and "shared/STYLE" not in README


def test_the_files_it_names_exist():
    named = set(
        re.findall(
            r"`((?:config|accounts|merchants|ledger|budgets|realtime|workers|tests|bench|data)/[\w./-]+\.\w+)`", README
        )
    )
    assert named
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert not missing, missing


def test_the_quickstart_calls_endpoints_that_exist():
    quickstart = README.split("## Five-minute quickstart", 1)[1].split("\n## ", 1)[0]
    calls = set(re.findall(r"\$API(/[\w/-]+)", quickstart))
    assert {"/auth/register", "/auth/login", "/budgets", "/transactions"} <= calls
    for call in calls:
        resolve("/api/v1" + call)  # raises Resolver404 for an endpoint that does not exist
    assert "/live/" in quickstart and "/api/docs/" in quickstart
