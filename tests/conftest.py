"""Shared fixtures: the kernel is built once per session, and the whole
guest selftest suite runs in one guest whose results every test reads.

The harness's status lines (build stages, boots, which area and test the
suite guest runs, elapsed time) go to the terminal as they come, past
pytest's output capture: a VM test run takes many minutes.
"""

from __future__ import annotations

import os
import sys

import pytest

from harness import progress
from harness.layout import Layout


def pytest_configure(config: pytest.Config) -> None:
    capman = config.pluginmanager.getplugin("capturemanager")
    if capman is None:
        return

    def to_terminal(line: str) -> None:
        with capman.global_and_fixture_disabled():
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    progress.set_sink(to_terminal)


def pytest_unconfigure(config: pytest.Config) -> None:
    progress.set_sink(None)


@pytest.fixture(scope="session")
def layout() -> Layout:
    return Layout()


@pytest.fixture(scope="session")
def built(layout: Layout) -> Layout:
    """The kernel, tools and selftests built (a no-op when up to date).

    HARNESS_PREBUILT=1 uses the build as it is (a developer re-running
    tests while another build holds the machine's build lock); `make test`
    always builds.
    """
    from harness.kbuild import build_all

    if os.environ.get("HARNESS_PREBUILT") == "1":
        if not layout.bzimage.is_file():
            pytest.fail(f"HARNESS_PREBUILT=1 but there is no kernel at {layout.bzimage}: "
                        "run `python -m harness build`")
        return layout
    build_all(layout)
    return layout


@pytest.fixture(scope="session")
def suite_run(built: Layout):
    """Every selftests/<area>/run.sh, run in a single guest."""
    from harness.suite import run_suite

    return run_suite(built)
