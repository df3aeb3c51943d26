"""KTAP parsing: results, directives, diagnostics, subtests, missing results."""

from __future__ import annotations

from harness import ktap

SAMPLE = """\
TAP version 13
1..4
# starting
ok 1 first
# expected 4096 bytes, got 0
not ok 2 second
ok 3 third # SKIP no null_blk
ok 4 - fourth
# Totals: pass:2 fail:1 xfail:0 xpass:0 skip:1 error:0
"""


def test_results_directives_and_diagnostics() -> None:
    report = ktap.parse(SAMPLE)
    assert report.plan == 4 and not report.problems
    r = report.results
    assert [x.name for x in r] == ["first", "second", "third", "fourth"]
    assert r[0].passed and r[0].diagnostics == ["starting"]
    assert r[1].failed and r[1].diagnostics == ["expected 4096 bytes, got 0"]
    assert "expected 4096 bytes, got 0" in r[1].detail()
    assert r[2].skipped and r[2].reason == "no null_blk" and not r[2].failed
    assert r[3].passed


def test_missing_results_are_a_problem() -> None:
    report = ktap.parse("KTAP version 1\n1..3\nok 1 a\n")
    assert report.problems == ["planned 3 results, missing 2: 2, 3"]


def test_empty_output_is_a_problem() -> None:
    assert ktap.parse("").problems == ["no KTAP output (no plan and no results)"]


def test_subtests_are_nested_and_flattened() -> None:
    text = """\
KTAP version 1
1..2
    KTAP version 1
    # Subtest: group
    1..2
    ok 1 inner-a
    not ok 2 inner-b
not ok 1 group
ok 2 after
"""
    report = ktap.parse(text)
    assert not report.problems
    group = report.results[0]
    assert [s.name for s in group.subtests] == ["inner-a", "inner-b"]
    paths = [p for p, _ in report.flat()]
    assert paths == ["group", "group/inner-a", "group/inner-b", "after"]
    assert "not ok 2 inner-b" in group.detail()


def test_xfail_counts_as_pass() -> None:
    report = ktap.parse("1..1\nnot ok 1 known # XFAIL upstream bug\n")
    assert report.results[0].passed and not report.results[0].failed


# Each case below passed before the parser was made strict: a broken test
# program read as green.

def test_results_without_a_plan_are_a_problem() -> None:
    report = ktap.parse("ok 1 a\nok 2 b\n")
    assert report.problems == ["no plan (1..N) for 2 result(s)"]


def test_result_numbered_above_the_plan_is_a_problem() -> None:
    report = ktap.parse("1..2\nok 1 a\nok 2 b\nnot ok 3 c\n")
    assert report.problems == ["result number(s) outside the plan 1..2: 3"]


def test_duplicate_numbers_are_a_problem() -> None:
    report = ktap.parse("1..2\nok 1 a\nok 1 a-again\n")
    assert "result number(s) used more than once: 1" in report.problems
    assert "planned 2 results, missing 1: 2" in report.problems


def test_plan_of_zero_needs_a_skip() -> None:
    assert ktap.parse("TAP version 13\n1..0\n").problems == [
        "a plan of 0 tests without a SKIP reason"]
    skipped = ktap.parse("TAP version 13\n1..0 # SKIP no null_blk\n")
    assert not skipped.problems and skipped.whole_skip and skipped.skip_all == "no null_blk"


def test_plan_of_zero_with_results_is_not_a_whole_skip() -> None:
    report = ktap.parse("1..0 # SKIP nothing to do\nnot ok 1 a\n")
    assert report.problems == ["a plan of 0 tests, but 1 result(s)"]
    assert not report.whole_skip


def test_bail_out_is_a_problem() -> None:
    report = ktap.parse("1..1\nok 1 a\nBail out! the device vanished\n")
    assert report.problems == ["Bail out! the device vanished"]


def test_indented_tool_output_does_not_hide_later_results() -> None:
    text = """\
TAP version 13
1..3
ok 1 a
    fio-3.33: some indented tool output
      more of it, deeper
not ok 2 b
  detail line of b's tool
ok 3 c
"""
    report = ktap.parse(text)
    assert not report.problems
    assert [r.name for r in report.results] == ["a", "b", "c"]
    b = report.results[1]
    assert b.failed and not b.subtests
    assert b.diagnostics == ["fio-3.33: some indented tool output", "more of it, deeper"]
    assert report.results[2].diagnostics == ["detail line of b's tool"]


def test_indented_not_ok_without_a_block_is_a_diagnostic() -> None:
    # Before: an indented block nested anything, and the result after it
    # took it as its subtests; with no result after it, it vanished.
    report = ktap.parse("1..1\nok 1 a\n    not ok 7 inside tool output\n")
    assert not report.problems
    assert report.trailing == ["not ok 7 inside tool output"]


def test_subtests_without_a_result_line_are_a_problem() -> None:
    text = """\
KTAP version 1
1..1
ok 1 a
    KTAP version 1
    # Subtest: orphan
    1..1
    not ok 1 lost
"""
    report = ktap.parse(text)
    assert "subtests of 'orphan' have no result line" in report.problems


def test_subtest_plans_are_checked_at_every_level() -> None:
    text = """\
KTAP version 1
1..1
    KTAP version 1
    # Subtest: outer
    1..1
        KTAP version 1
        # Subtest: inner
        1..3
        ok 1 x
        ok 5 y
    ok 1 inner
ok 1 outer
"""
    report = ktap.parse(text)
    assert report.problems == [
        "outer: inner: result number(s) outside the plan 1..3: 5",
        "outer: inner: planned 3 results, missing 2: 2, 3"]


def test_subtest_block_without_plan_is_a_problem() -> None:
    text = "1..1\n    # Subtest: group\n    ok 1 x\nok 1 group\n"
    assert ktap.parse(text).problems == ["group: no plan (1..N) for 1 result(s)"]


def test_failing_result_with_subtests_is_failed() -> None:
    text = """\
KTAP version 1
1..1
    KTAP version 1
    # Subtest: group
    1..1
    ok 1 inner
not ok 1 group
"""
    report = ktap.parse(text)
    assert not report.problems
    assert report.results[0].failed and report.results[0].subtests
