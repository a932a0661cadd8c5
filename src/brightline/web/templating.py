"""Jinja2 templates of the console, autoescaped; rendered to strings by the page handlers."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


def _when(value: datetime | None) -> str:
    """UTC timestamps to the minute: reviewers compare them with the audit log, which is UTC."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "-"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("brightline.web", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    return env


def render(name: str, **context: Any) -> str:
    return environment().get_template(name).render(**context)
