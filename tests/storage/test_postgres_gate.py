"""The PostgreSQL gate of the test suite itself: skip with a warning locally, fail under CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:9/none"


def _run_storage_test(ci: bool) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"BRIGHTLINE_TEST_POSTGRES_URL": UNREACHABLE}
    env.pop("CI", None)
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/storage/test_storage.py::test_upgrade_is_idempotent",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_unreachable_postgres_is_skipped_with_a_warning_outside_ci() -> None:
    done = _run_storage_test(ci=False)
    assert done.returncode == 0, done.stdout
    assert "1 passed, 1 skipped" in done.stdout
    assert "WARNING: PostgreSQL tests were skipped" in done.stdout


def test_unreachable_postgres_fails_the_run_in_ci() -> None:
    done = _run_storage_test(ci=True)
    assert done.returncode == 1
    assert "PostgreSQL is required in CI but unreachable" in done.stdout
