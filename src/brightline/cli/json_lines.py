"""Reading JSON-lines input files for the command line, one object per line.

Shared by the ``text`` commands: every error names the input and the line number, never the
line's content (it is user text), and blank lines are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from brightline.errors import InvalidInput


def json_objects(
    lines: Iterable[bytes], *, what: str = "posts"
) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line; InvalidInput for anything else."""
    for number, raw in enumerate(lines, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"{what} line {number}: not valid UTF-8") from None
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"{what} line {number}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise InvalidInput(f"{what} line {number}: expected a JSON object")
        yield number, record
