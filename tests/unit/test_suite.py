"""The suite's area verdicts: no broken area reads as passed or skipped.

Each case here was accepted before the verdict was made strict.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import ktap, progress
from harness.guest_output import SuiteProgress
from harness.layout import Layout
from harness.suite import SUITE_BUDGET, AreaResult, area_timeout, area_verdict, guest_driver, \
    suite_limit
from harness.vm import read_status


def verdict(raw: str, status: int | None, **kw: object):
    result = AreaResult(area="demo", status=status, report=ktap.parse(raw), raw=raw)
    return area_verdict(result, **kw)  # type: ignore[arg-type]


SKIP_ALL = "TAP version 13\n1..0 # SKIP CONFIG_IOSCHED_UFQ is not enabled\n"


def test_exit_4_with_failures_is_a_failure() -> None:
    v = verdict("TAP version 13\n1..3\nok 1 a\nnot ok 2 b\n", 4, strict=False)
    assert v.outcome == "fail"
    assert v.problems[0].startswith("demo: run.sh exited 4 (skip), but its output is not")
    assert any("demo/b:" in p for p in v.problems)


def test_exit_4_after_half_the_plan_is_a_failure() -> None:
    v = verdict("TAP version 13\n1..4\nok 1 a\nok 2 b\n", 4, strict=False)
    assert v.outcome == "fail"
    assert "demo: planned 4 results, missing 2: 3, 4" in v.problems


def test_whole_area_skip_fails_when_strict_unless_expected() -> None:
    strict = verdict(SKIP_ALL, 4, expected={})
    assert strict.outcome == "fail"
    assert "skipped the whole area (CONFIG_IOSCHED_UFQ is not enabled)" in strict.problems[0]
    listed = verdict(SKIP_ALL, 4, expected={"demo": "no such feature on this machine"})
    assert listed.outcome == "skip" and listed.skip_reason == "CONFIG_IOSCHED_UFQ is not enabled"
    assert verdict(SKIP_ALL, 4, strict=False).outcome == "skip"


def test_plan_of_zero_with_exit_0_is_a_failure() -> None:
    assert verdict("TAP version 13\n1..0\n", 0, strict=False).outcome == "fail"
    v = verdict(SKIP_ALL, 0, strict=False)
    assert v.outcome == "fail"
    assert "demo: skipped everything (CONFIG_IOSCHED_UFQ is not enabled) but exited 0, not 4" \
        in v.problems


def test_results_without_plan_fail_the_area() -> None:
    v = verdict("ok 1 a\n", 0)
    assert v.problems == ["demo: no plan (1..N) for 1 result(s)"]


def test_failing_result_with_subtests_fails_the_area() -> None:
    raw = """\
KTAP version 1
1..1
    KTAP version 1
    # Subtest: group
    1..1
    ok 1 inner
not ok 1 group
"""
    v = verdict(raw, 0)
    assert v.outcome == "fail"
    assert v.problems[0].startswith("demo/group:\nnot ok 1 group")


def test_skipped_result_fails_when_strict_unless_expected() -> None:
    raw = "TAP version 13\n1..2\nok 1 a\nok 2 b # SKIP no io_uring_bpf_ops in BTF\n"
    v = verdict(raw, 0, expected={})
    assert v.outcome == "fail"
    assert v.problems == ["demo/b: skipped (no io_uring_bpf_ops in BTF); in the project's own "
                          "runs a skip is a failure unless harness/expected_skips.py lists it"]
    assert verdict(raw, 0, expected={"demo/b": "reason"}).outcome == "pass"
    assert verdict(raw, 0, strict=False).outcome == "pass"


def test_unfinished_and_timed_out_areas_fail() -> None:
    assert verdict("1..1\nok 1 a\n", None).outcome == "fail"
    v = verdict("1..2\nok 1 a\n", 124)
    assert v.problems[0] == ("demo: timed out after its limit of 300 s "
                             "(timeout=N in selftests/demo/settings)")


def test_clean_area_passes() -> None:
    v = verdict("TAP version 13\n1..2\nok 1 a\nnot ok 2 b # XFAIL known\n", 0)
    assert v.outcome == "pass" and not v.problems


def test_garbled_or_missing_status_reads_as_not_finished(tmp_path: Path) -> None:
    status = tmp_path / "area.status"
    assert read_status(status) is None
    status.write_text("1\x00\x00garbage")
    assert read_status(status) is None
    status.write_text("0\n")
    assert read_status(status) == 0


def test_guest_driver_writes_status_atomically_and_tees_output() -> None:
    text = guest_driver(Layout(), {"ufq": 600}, "/shared")
    assert "timeout -k 10 600 bash" in text
    assert "echo $? > /shared/ufq.status.tmp; } | tee /shared/ufq.ktap" in text
    assert "mv /shared/ufq.status.tmp /shared/ufq.status" in text
    assert text.index("[suite] ufq start") < text.index("[suite] ufq done status")


def test_area_timeout_from_settings(tmp_path: Path) -> None:
    assert area_timeout(tmp_path) == 300
    (tmp_path / "settings").write_text("# kselftest style\ntimeout=420\n")
    assert area_timeout(tmp_path) == 420


def test_suite_fits_its_budget() -> None:
    # CI has 90 minutes for a cold build, the other VM tests and the suite.
    assert suite_limit(Layout()) <= SUITE_BUDGET


def test_suite_progress_names_area_and_results(monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[str] = []
    monkeypatch.setattr(progress, "_sink", said.append)
    watch = SuiteProgress(["block", "ufq"])
    for line in ["[suite] block start", "# some diagnostic", "ok 1 verify nullb0",
                 "not ok 2 verify vda", "[suite] block done status 1"]:
        watch(line)
    assert len(said) == 4
    assert "area 1/2 block: started" in said[0]
    assert said[1].endswith("block: ok 1 verify nullb0")
    assert said[2].endswith("block: not ok 2 verify vda")
    assert "block: finished in" in said[3] and said[3].endswith("exit status 1")
