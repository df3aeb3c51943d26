"""Each guest selftest area, its KTAP results mapped to pytest subtests.

All areas run in one guest (the session's suite_run); a kernel splat
anywhere in that guest fails every area, since no result from a kernel that
splatted can be trusted.
"""

from __future__ import annotations

import pytest

from harness.kbuild import selftest_areas
from harness.layout import Layout
from harness.suite import SKIP_STATUS, area_failures

pytestmark = pytest.mark.vm

AREAS = [p.name for p in selftest_areas(Layout())]


@pytest.mark.parametrize("area", AREAS)
def test_area(area: str, suite_run, subtests) -> None:
    guest = suite_run.guest
    assert not guest.splats, guest.report()
    assert guest.status is not None, guest.report()
    result = suite_run.areas[area]
    if result.status == SKIP_STATUS:
        pytest.skip(f"{area}: {result.raw.strip()[:200]}")
    for path, res in result.report.flat():
        if res.subtests:
            continue
        with subtests.test(msg=f"{area}/{path}"):
            if res.skipped:
                pytest.skip(res.reason or "skipped")
            assert not res.failed, res.detail()
    assert not area_failures(result), "\n".join(area_failures(result)) + "\n" + result.raw
