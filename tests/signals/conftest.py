"""Shared fixtures for the signal tests."""

from __future__ import annotations

import pytest

from brightline.signals import HashingLimits


@pytest.fixture(scope="session")
def limits() -> HashingLimits:
    return HashingLimits()
