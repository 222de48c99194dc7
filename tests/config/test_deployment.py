"""Deployment artefacts: compose services point at real modules, its proxy
routes like `make run`'s front with a config nginx accepts, and `check --deploy`
is clean with production values."""

import importlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from config import serve
from tests.e2e.servers import nginx_installed

ROOT = Path(__file__).resolve().parents[2]
WORKERS = ("worker-high", "worker-default", "worker-scheduled")


def _compose():
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_has_every_service_with_healthchecks_and_ordering():
    services = _compose()["services"]
    assert set(services) >= {
        "db",
        "redis",
        "migrate",
        "proxy",
        "web",
        "ws",
        "worker-high",
        "worker-default",
        "worker-scheduled",
        "beat",
    }
    assert services["db"]["image"].startswith("postgres:16")
    for name in ("db", "redis", "proxy", "web", "ws", *WORKERS, "beat"):
        assert "healthcheck" in services[name] and "test" in services[name]["healthcheck"], name
    for name in ("web", "ws", *WORKERS, "beat"):
        deps = services[name]["depends_on"]
        assert deps["db"]["condition"] == "service_healthy"
        assert deps["redis"]["condition"] == "service_healthy"
        assert deps["migrate"]["condition"] == "service_completed_successfully"


def test_compose_restarts_every_long_running_service():
    services = _compose()["services"]
    assert services["migrate"]["restart"] == "no"  # one-shot: a failed migration must stay failed
    for name, service in services.items():
        if name != "migrate":
            assert service.get("restart") == "unless-stopped", name
            assert "test" in service["healthcheck"], name


def test_every_procfile_line_runs_under_the_respawning_supervisor():
    lines = [line for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()]
    assert [line.split(":", 1)[0] for line in lines] == ["web", "worker", "beat"]
    for line in lines:
        assert line.split(":", 1)[1].split()[:4] == [".venv/bin/python", "-m", "config.respawn", "--"], line


def test_compose_serves_one_origin_through_the_health_gated_proxy():
    services = _compose()["services"]
    proxy = services["proxy"]
    assert proxy["ports"] == ["8000:8000"]
    assert not any("ports" in services[name] for name in ("web", "ws"))  # reached through the proxy only
    assert proxy["depends_on"] == {"web": {"condition": "service_healthy"}, "ws": {"condition": "service_healthy"}}
    assert services["web"]["command"][-2:] == ["config.serve", "http"]
    assert services["ws"]["command"][-2:] == ["config.serve", "ws"]
    env = proxy["environment"]
    assert env["TALLY_HTTP_UPSTREAM"] == f"web:{services['web']['environment']['WEB_PORT']}"
    assert env["TALLY_WS_UPSTREAM"] == f"ws:{services['ws']['environment']['WEB_PORT']}"
    template, mounted = proxy["volumes"][0].split(":")[:2]
    assert (ROOT / template).resolve() == serve.NGINX_TEMPLATE
    assert mounted == "/etc/nginx/templates/default.conf.template"  # the image renders it into conf.d


def _nginx_accepts(main_conf: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [serve.nginx_binary(), "-t", "-e", "stderr", "-p", str(main_conf.parent), "-c", str(main_conf)],
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
def nginx():
    if not nginx_installed():
        pytest.fail("Debian's nginx is required: apt-get install -y nginx (make test installs it)")


def test_make_runs_nginx_config_passes_nginx_t(nginx):
    with tempfile.TemporaryDirectory() as runtime:
        site = serve.render_site(listen_on="127.0.0.1:8000", http_upstream="127.0.0.1:1", ws_upstream="127.0.0.1:2")
        result = _nginx_accepts(serve.write_nginx_config(Path(runtime), site))
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def test_composes_proxy_config_passes_nginx_t(nginx):
    """The template as the nginx image renders it from compose's environment
    (envsubst of the variables set), inside an http block like the image's."""
    env = _compose()["services"]["proxy"]["environment"]
    site = serve.NGINX_TEMPLATE.read_text()
    for name, value in env.items():
        # web and ws are compose's DNS names; loopback stands for them where there is no compose network.
        site = site.replace("${" + name + "}", str(value).replace("web:", "127.0.0.1:").replace("ws:", "127.0.0.1:"))
    assert not re.findall(r"\$\{\w+\}", site)  # every placeholder is set in compose
    with tempfile.TemporaryDirectory() as runtime:
        result = _nginx_accepts(serve.write_nginx_config(Path(runtime), site))
    assert result.returncode == 0, result.stderr


def _target_of(command):
    if command[0] == "daphne":
        return command[-1]  # module:attribute
    if command[:2] == ["python", "-m"]:
        return f"{command[2]}:main"
    if command[0] == "celery":
        return command[command.index("-A") + 1] + ":celery_app"
    return None


def test_compose_commands_point_at_modules_that_exist():
    services = _compose()["services"]
    checked = 0
    for name in ("web", "ws", *WORKERS, "beat"):
        target = _target_of(services[name]["command"])
        module_name, attribute = target.split(":")
        module = importlib.import_module(module_name)
        assert hasattr(module, attribute), f"{name}: {target}"
        checked += 1
    assert checked == 6
    migrate = " ".join(services["migrate"]["command"])
    assert "manage.py migrate" in migrate


def test_compose_workers_cover_every_queue_once():
    from workers.routing import QUEUES

    services = _compose()["services"]
    consumed = []
    for name in WORKERS:
        command = services[name]["command"]
        consumed += command[command.index("-Q") + 1].split(",")
    assert sorted(consumed) == sorted(QUEUES)


def test_procfile_runs_web_worker_and_beat():
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert set(lines) == {"web", "worker", "beat"}
    assert "-m config.serve" in lines["web"]
    assert "-A config worker" in lines["worker"]
    assert "DatabaseScheduler" in lines["beat"]


def test_check_deploy_is_clean_with_production_values():
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "k3$9-Qz!pW2@vB7#nM4%rT8^yL1&hC6*jD0(fG5)sX" * 2,
        "ALLOWED_HOSTS": "tally.example.com",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update({"DEBUG": "false", "DJANGO_SETTINGS_MODULE": "config.settings"})
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
