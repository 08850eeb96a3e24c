"""The layers of DESIGN.md section 3 hold (import-linter, configured in pyproject.toml), and
the check would notice an arrow pointing the wrong way: a planted `services -> workflows`
import in a copy of the tree breaks it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("api", "services", "activities", "workflows", "infra", "contracts", "composition")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=root, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(root), "PATH": ""})


def test_the_layer_contracts_are_kept():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_a_service_importing_a_workflow_breaks_them(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    planted = tmp_path / "services" / "planted.py"
    planted.write_text("from workflows.process import ProcessWorkflow  # noqa: F401\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "services.planted -> workflows.process" in result.stdout, result.stdout[-3000:]
