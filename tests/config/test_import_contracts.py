"""The dependency rules in pyproject.toml hold (`make test` runs lint-imports too)."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_contract_is_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout, result.stdout


def test_contracts_state_the_layers_and_the_kernel():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")
    assert layers["layers"] == ["workers", "budgets", "ledger", "merchants | realtime", "accounts"]
    kernel = next(c for c in contracts if c["name"].startswith("The config kernel"))
    assert {"config.errors", "config.exceptions", "config.tasks", "config.locks", "config.api"} <= set(
        kernel["source_modules"]
    )
    assert not {"config.urls", "config.asgi", "config.celery", "config.settings"} & set(kernel["source_modules"])
    rooms = next(c for c in contracts if c["type"] == "independence")
    assert "ledger.transactions" in rooms["modules"] and "ledger.portfolio" in rooms["modules"]
