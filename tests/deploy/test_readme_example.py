"""The README's Brownie example ("Writing a Brownie test for a liquidation path") passes the project's
own ruff and runs green with `brownie test` where the README says to put it, so it cannot rot."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECTION = "## Writing a Brownie test for a liquidation path"
EXAMPLE_PATH = "tests/contracts/liquidation/test_my_path.py"


def readme_example() -> str:
    section = (ROOT / "README.md").read_text().split(SECTION, 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, f"no python block under {SECTION!r} in README.md"
    return match.group(1)


def test_the_readme_example_passes_the_projects_ruff(tmp_path):
    path = tmp_path / "test_my_path.py"
    path.write_text(readme_example())

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "--config",
            str(ROOT / "pyproject.toml"),
            str(path),
        ],
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_readme_example_runs_green_with_brownie(brownie_user, copy_project, tmp_path):
    project = copy_project(tmp_path / "liqengine")
    for helper in ("conftest.py", "liquidation/conftest.py", "liquidation/liquidation_helpers.py"):
        target = project / "tests" / "contracts" / helper
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / "tests" / "contracts" / helper, target)
    shutil.copytree(ROOT / "tests" / "reference", project / "tests" / "reference",
                    ignore=shutil.ignore_patterns("__pycache__"))  # the helpers' reference maths
    (project / EXAMPLE_PATH).write_text(readme_example())

    result = brownie_user.run("test", EXAMPLE_PATH, "--network", "liqengine-dev", cwd=project)

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "1 passed" in result.stdout
