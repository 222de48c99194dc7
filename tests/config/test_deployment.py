"""Deployment artefacts: compose services point at real modules, and
`check --deploy` is clean with production values."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import yaml

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
        "web",
        "worker-high",
        "worker-default",
        "worker-scheduled",
        "beat",
    }
    assert services["db"]["image"].startswith("postgres:16")
    for name in ("db", "redis", "web", *WORKERS, "beat"):
        assert "healthcheck" in services[name] and "test" in services[name]["healthcheck"], name
    for name in ("web", *WORKERS, "beat"):
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
    for name in ("web", *WORKERS, "beat"):
        target = _target_of(services[name]["command"])
        module_name, attribute = target.split(":")
        module = importlib.import_module(module_name)
        assert hasattr(module, attribute), f"{name}: {target}"
        checked += 1
    assert checked == 5
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
