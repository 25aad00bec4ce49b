from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# a test that imports litellm in process (the keeper's callback) must not fetch litellm's model cost map
# from GitHub: its own copy is enough, and the tests send nothing beyond 127.0.0.1
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT.parent / "shared" / "reference"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A learner's folder: the shipped specs/ and scenarios/, nothing else."""
    shutil.copytree(ROOT / "specs", tmp_path / "specs")
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    return tmp_path


def run_cli(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python -m budget ARGS`` as a learner types it."""
    return subprocess.run(
        [sys.executable, "-m", "budget", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
