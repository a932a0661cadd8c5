"""The demo's clearinghouse part, small: synthetic reports arrive by bulk import and are
analysed; without the CyberTipline schema it is skipped with the way to enable it. (Delivery of
a filed report over HTTP is tested end to end in tests/clearinghouse_intake.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from brightline.cli.demo_clearinghouse import run_clearinghouse_demo
from brightline.settings import load_settings

SCHEMA = (
    Path(__file__).resolve().parents[2].parent / "shared/reference/cybertipline/cyber_tipline.xsd"
)


def test_the_clearinghouse_part_imports_and_analyses(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = load_settings({"BRIGHTLINE_HOME": str(tmp_path)})
    skipped = run_clearinghouse_demo(sessions=sessions, settings=settings, schema_path=None)
    assert skipped.skipped is not None
    assert "BRIGHTLINE_CLEARINGHOUSE_SCHEMA_PATH" in skipped.skipped
    if not SCHEMA.is_file():
        pytest.skip(f"WARNING: CyberTipline reference schema not found at {SCHEMA}")
    result = run_clearinghouse_demo(
        sessions=sessions, settings=settings, schema_path=SCHEMA, synthetic_reports=12
    )
    assert result.skipped is None
    assert (result.filed, result.delivered) == (0, 0)  # no confirmed sample case here
    assert result.imported == 12
    assert result.analysed == 12
    assert sum(result.tiers.values()) == 12
    again = run_clearinghouse_demo(
        sessions=sessions, settings=settings, schema_path=SCHEMA, synthetic_reports=12
    )
    assert (again.imported, again.analysed) == (0, 12)  # imported once per database
