"""Each guest selftest area, its KTAP results mapped to pytest subtests.

All areas run in one guest (the session's suite_run); a kernel splat
anywhere in that guest fails every area, since no result from a kernel that
splatted can be trusted.  The area's verdict is harness.suite's: in the
project's own runs a skip fails unless harness/expected_skips.py lists it.
"""

from __future__ import annotations

import pytest

from harness.expected_skips import EXPECTED_SKIPS
from harness.kbuild import selftest_areas
from harness.layout import Layout
from harness.suite import area_verdict

pytestmark = pytest.mark.vm

AREAS = [p.name for p in selftest_areas(Layout())]


@pytest.mark.parametrize("area", AREAS)
def test_area(area: str, suite_run, subtests) -> None:
    guest = suite_run.guest
    assert not guest.splats, guest.report()
    assert guest.status is not None, guest.report()
    result = suite_run.areas[area]
    verdict = area_verdict(result)
    if verdict.outcome == "skip":
        pytest.skip(f"{area}: expected skip: {EXPECTED_SKIPS[area]} ({verdict.skip_reason})")
    for path, res in result.report.flat():
        with subtests.test(msg=f"{area}/{path}"):
            key = f"{area}/{path}"
            if res.skipped and key in EXPECTED_SKIPS:
                pytest.skip(f"expected skip: {EXPECTED_SKIPS[key]} ({res.reason})")
            assert not res.failed, res.detail()
            assert not res.skipped, (f"skipped ({res.reason}): a skip in the project's own "
                                     "run is a failure unless harness/expected_skips.py "
                                     "lists it")
    assert not verdict.failed, "\n".join(verdict.problems) + "\n" + result.raw
