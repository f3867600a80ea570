"""Shared fixtures: where the public data lives, and markers for tests that need it."""

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_dir():
    """The public gamma-ray data collection; tests needing it skip when it is absent."""
    value = os.environ.get("GAMMARULES_DATA")
    if not value or not Path(value).is_dir():
        pytest.skip("GAMMARULES_DATA is not set to the public data collection")
    return Path(value)


@pytest.fixture(scope="session")
def hess_dir(data_dir):
    return data_dir / "hess-dl3-dr1"
