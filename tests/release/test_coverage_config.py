"""The newest end's coverage settings (envs/newest/coverage.toml) are the repository's plus the subprocess patch.

The oldest end reads [tool.coverage.*] from pyproject.toml, and its pytest-cov 6 measures child processes by itself.
The newest end's pytest-cov 7 does not, so `make pytest-newest` reads envs/newest/coverage.toml, which adds
coverage.py's `patch = ["subprocess"]`. Anything else differing between the two files would make the two ends'
figures measure different things.
"""

from __future__ import annotations

import copy
import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NEWEST_CONFIG = "envs/newest/coverage.toml"


def _coverage(path: Path) -> dict[str, object]:
    return tomllib.loads(path.read_text())["tool"]["coverage"]


def test_newest_coverage_settings_are_the_repositorys_plus_the_subprocess_patch() -> None:
    oldest = _coverage(REPO / "pyproject.toml")
    newest = _coverage(REPO / NEWEST_CONFIG)
    expected = copy.deepcopy(oldest)
    expected["run"]["patch"] = ["subprocess"]  # type: ignore[index]
    assert newest == expected
    # The oldest end's coverage.py (7.6) does not know `patch` and would warn about it in every process.
    assert "patch" not in oldest["run"]  # type: ignore[operator]


def test_make_pytest_newest_reads_the_newest_settings_into_its_own_data_file() -> None:
    makefile = (REPO / "Makefile").read_text()
    recipe = re.search(r"^pytest-newest:\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe, "no pytest-newest target"
    assert f"--cov-config={NEWEST_CONFIG}" in recipe.group(1)
    # Not `.coverage.<anything>`: the oldest end combines every `.coverage.*` file into its own figure.
    data_file = re.search(r"COVERAGE_FILE=(\S+)", recipe.group(1))
    assert data_file and not data_file.group(1).startswith(".coverage.")
