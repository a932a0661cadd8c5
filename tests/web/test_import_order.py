"""The console and the HTTP adapter import each other's modules: either must import first, in a
fresh interpreter (a circular import would only show in whichever order a tool happens to use)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    "module", ["brightline.web", "brightline.web.pages", "brightline.web.portal", "brightline.http"]
)
def test_the_package_imports_first(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
