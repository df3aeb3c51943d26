"""The demo's reading of a tools/ufq_iosched loader's output (no VM)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.vm import GuestError
from harness.workloads import loader_exit_line, loader_final_stats, read_verify_rows, \
    ufq_stats_table

LOG = """\
ufq_simple: attached to ufqdemo0 (was none), vda (was mq-deadline)
ufq_simple: ins 10 (r 5 w 5 o 0) disp 10 (r 5 w 5 o 0 direct 0) merges bio 0/0 rq 0
ufq_simple: final stats
inserted 1200
dispatched 1200
dispatched_direct 1199
bio_back_merges 7
ufq_simple: exit kind=unregistered reason=detached by user space
"""


def test_final_stats_are_the_lines_after_the_marker() -> None:
    assert loader_final_stats(LOG) == {"inserted": 1200, "dispatched": 1200,
                                       "dispatched_direct": 1199, "bio_back_merges": 7}


def test_no_final_stats_when_the_loader_died() -> None:
    assert loader_final_stats(LOG.split("ufq_simple: final stats")[0]) == {}


def test_the_last_final_block_wins() -> None:
    twice = LOG + "ufq_simple: final stats\ninserted 3\n"
    assert loader_final_stats(twice) == {"inserted": 3}


def test_exit_line() -> None:
    assert loader_exit_line(LOG) == ("ufq_simple: exit kind=unregistered "
                                     "reason=detached by user space")
    assert loader_exit_line("ufq_simple: attached\n") is None


def test_stats_table_keeps_the_demo_order_and_skips_missing() -> None:
    table = ufq_stats_table({"dispatched_direct": 2, "inserted": 3, "unknown": 9})
    rows = [line.split() for line in table.splitlines()[2:]]
    assert rows == [["inserted", "3"], ["dispatched_direct", "2"]]


def test_garbled_verify_table_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "verify.tsv"
    path.write_text("device\tscheduler\tbytes_written\tbytes_verified\tresult\n"
                    "nullb0\tnone\t1048576\t1048576\tverified\n"
                    "vda\tmq-deadline\t10485")
    with pytest.raises(GuestError, match=r"verify.tsv:3: not a row of verify.sh's table"):
        read_verify_rows(path)
    path.write_text("device\tscheduler\tbytes_written\tbytes_verified\tresult\n"
                    "nullb0\tnone\t1048576\t1048576\tverified\n")
    assert read_verify_rows(path)[0].bytes_verified == 1048576
