"""/metrics behind a bearer token, Content-Security-Policy on the pages a
browser renders, and HSTS only when a trusted proxy says the request was https."""

import re
from urllib.parse import urljoin, urlparse

import pytest

pytestmark = pytest.mark.django_db

METRICS_TOKEN = "s3cret-metrics-token"


def error_codes(response):
    assert response["Content-Type"].startswith("application/json")
    return {error["code"] for error in response.json()["errors"]}


def test_metrics_need_the_bearer_token_when_debug_is_off(client, settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = METRICS_TOKEN

    missing = client.get("/metrics")
    assert missing.status_code == 401
    assert error_codes(missing) == {"not_authenticated"}
    assert missing["WWW-Authenticate"].startswith("Bearer")

    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-it")
    assert wrong.status_code == 403
    assert error_codes(wrong) == {"permission_denied"}

    right = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert right.status_code == 200
    assert b"django_http_requests" in right.content


def test_metrics_are_closed_with_debug_off_and_no_token(client, settings):
    settings.DEBUG = False
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer ")
    assert response.status_code in (401, 403)
    assert client.get("/metrics").status_code in (401, 403)
    assert b"django_http_requests" not in response.content


def test_metrics_stay_open_for_local_development(client, settings):
    settings.DEBUG = True
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 200


def csp_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    policy = {}
    for directive in filter(None, (part.strip() for part in header.split(";"))):
        name, *values = directive.split()
        policy[name] = values
    return policy


def test_live_page_has_a_nonce_policy_its_inline_script_and_style_carry(client):
    response = client.get("/live/")
    policy = csp_of(response)
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-inline'" not in policy["style-src"]
    assert policy["frame-ancestors"] == ["'none'"]
    (nonce,) = {v for v in policy["script-src"] if v.startswith("'nonce-")}
    html = response.content.decode()
    inline_tags = re.findall(r"<(script|style)(\s[^>]*)?>", html)
    assert inline_tags, "the live page has inline script and style"
    for tag, attrs in inline_tags:
        if tag == "script" and "src=" in (attrs or ""):
            continue
        assert f'nonce="{nonce[7:-1]}"' in (attrs or ""), tag
    # a new request, a new nonce
    assert csp_of(client.get("/live/"))["script-src"] != policy["script-src"]


def test_admin_pages_have_the_strict_policy(client):
    policy = csp_of(client.get("/admin/login/"))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # the admin has no inline script
    assert policy["object-src"] == ["'none'"]


def allowed(source_url: str, sources: list[str], page_url: str) -> bool:
    url = urlparse(urljoin(page_url, source_url))
    if url.netloc in ("", "testserver"):
        return "'self'" in sources
    return f"{url.scheme}://{url.netloc}" in sources


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_policy_allows_every_asset_they_load_and_no_inline_script(client, page):
    response = client.get(page)
    assert response.status_code == 200
    policy = csp_of(response)
    html = response.content.decode()
    scripts = re.findall(r"<script([^>]*)>", html)
    assert scripts
    for attrs in scripts:
        source = re.search(r'src="([^"]+)"', attrs)
        assert source, f"inline script on {page}"  # no inline script: nothing needs 'unsafe-inline' there
        assert allowed(source.group(1).replace("&amp;", "&"), policy["script-src"], page), source.group(1)
    for href in re.findall(r'<link rel="stylesheet" href="([^"]+)"', html):
        assert allowed(href, policy["style-src"], page), href
    assert "'unsafe-inline'" not in policy["script-src"]


def test_swagger_init_script_is_served_as_javascript(client):
    html = client.get("/api/docs/").content.decode()
    init = [s for s in re.findall(r'<script src="([^"]+)"', html) if "script" in s.split("?")[-1]]
    (url,) = init
    response = client.get(url.replace("&amp;", "&"))
    assert response.status_code == 200
    assert "SwaggerUIBundle" in response.content.decode()


HSTS_SETTINGS = {
    "SECURE_HSTS_SECONDS": 3600,
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "TRUSTED_PROXIES": ["10.0.0.1"],
}


def test_hsts_only_when_a_trusted_proxy_says_https(client, settings):
    for name, value in HSTS_SETTINGS.items():
        setattr(settings, name, value)

    spoofed = client.get("/health/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" not in spoofed

    proxied = client.get("/health/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    assert proxied["Strict-Transport-Security"].startswith("max-age=3600")

    plain_via_proxy = client.get("/health/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_PROTO="http")
    assert "Strict-Transport-Security" not in plain_via_proxy


def test_production_settings_trust_the_forwarded_proto_only_with_trusted_proxies():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    script = "from django.conf import settings; print(repr(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None)))"
    base = {**os.environ, "DEBUG": "false", "SECRET_KEY": "x" * 60, "DJANGO_SETTINGS_MODULE": "config.settings"}

    def header_with(proxies):
        result = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {script}"],
            cwd=root,
            env={**base, "TRUSTED_PROXIES": proxies},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert header_with("") == "None"
    assert header_with("10.0.0.0/8") == "('HTTP_X_FORWARDED_PROTO', 'https')"


def test_an_api_response_carries_the_settings_policy_as_django_csp_builds_it(auth_client, settings):
    from csp.utils import build_policy

    response = auth_client.get("/api/v1/categories")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == build_policy()
    assert csp_of(response)["frame-ancestors"] == ["'none'"]

    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}  # a changed setting is read again
    assert auth_client.get("/api/v1/categories")["Content-Security-Policy"] == "default-src 'none'"
