"""Shared fixtures: the kernel is built once per session, and the whole
guest selftest suite runs in one guest whose results every test reads."""

from __future__ import annotations

import pytest

from harness.layout import Layout


@pytest.fixture(scope="session")
def layout() -> Layout:
    return Layout()


@pytest.fixture(scope="session")
def built(layout: Layout) -> Layout:
    """The kernel, tools and selftests built (a no-op when up to date)."""
    from harness.kbuild import build_all

    build_all(layout)
    return layout


@pytest.fixture(scope="session")
def suite_run(built: Layout):
    """Every selftests/<area>/run.sh, run in a single guest."""
    from harness.suite import run_suite

    return run_suite(built)
