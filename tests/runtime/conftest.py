"""Fixtures for the task runtime's tests; the helpers are in rt_helpers.py
(not here: tests/integration has a conftest.py too, and pytest runs both)."""
import pytest

from rt_helpers import Attempt


@pytest.fixture
def attempt(tmp_path):
    folder = tmp_path / "attempt"
    folder.mkdir()
    return Attempt(folder)
