"""The API docs pages load only our own static files (they work offline), and
the schema tags every operation by area."""

import re

import pytest
from django.contrib.staticfiles import finders

from config.openapi import tag_for_path


def _asset_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)\s*=\s*["\']([^"\']+)["\']', html) + re.findall(
        r'(?:url|bundle|standalone)\w*\s*[:=]\s*["\']([^"\']+\.(?:js|css|png))["\']', html
    )


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_page_references_only_local_static_assets(client, page):
    response = client.get(page)

    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"(?:src|href)\s*=\s*[\"\x27](?:https?:)?//", html), "an asset from another host"
    assert "@latest" not in html
    assets = [url for url in _asset_urls(html) if url.endswith((".js", ".css", ".png"))]
    assert assets, html
    for url in assets:
        assert url.startswith("/static/drf_spectacular_sidecar/"), url
        assert finders.find(url.removeprefix("/static/")), f"{url} is not a static file"


def test_schema_tags_operations_by_area(client):
    schema = client.get("/api/schema/?format=json").json()

    tags = {
        (path, method): operation["tags"]
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "tags" in operation
    }
    assert all(len(t) == 1 for t in tags.values())
    used = {t[0] for t in tags.values()}
    assert "v1" not in used
    assert {"auth", "accounts", "transactions", "imports", "budgets", "rules", "reports", "merchants"} <= used
    assert {"realtime", "webhooks"} <= used
    assert used <= {t["name"] for t in schema["tags"]}
    assert tags[("/api/v1/transactions/import", "post")] == ["imports"]
    assert tags[("/api/v1/auth/login", "post")] == ["auth"]


@pytest.mark.parametrize(
    ("path", "tag"),
    [
        ("/api/v1/budgets/{id}/renew", "budgets"),
        ("/api/v1/import-profiles/{id}", "imports"),
        ("/api/v1/transactions/import/{job_id}", "imports"),
        ("/api/v1/transactions/{id}/splits", "transactions"),
        ("/api/v1/notifications/read", "realtime"),
    ],
)
def test_tag_for_path(path, tag):
    assert tag_for_path(path) == tag
