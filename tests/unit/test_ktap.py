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
