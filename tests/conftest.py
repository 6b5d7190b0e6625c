"""Shared fixtures."""

from __future__ import annotations

import pytest

from helpers import paths
from helpers.codebook import Codebook, load_codebook


@pytest.fixture(scope="session")
def codebook() -> Codebook:
    return load_codebook()


@pytest.fixture(scope="session")
def root():
    return paths.ROOT
