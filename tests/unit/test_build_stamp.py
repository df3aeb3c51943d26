"""The stamp that tells a build from one older than its sources."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.build_stamp import (StaleBuildError, check_fresh, is_build_input,
                                 source_fingerprints, write_stamp)
from harness.layout import Layout


@pytest.mark.parametrize("path, expected", [
    ("kernel-patches/0001-x.patch", True),
    ("kernel-patches/series", True),
    ("kernel-patches/cover-letter", False),
    ("block/ufq-iosched.c", True),
    ("selftests/ufq/ufq_test.bpf.c", True),
    ("selftests/ufq/config", True),
    ("selftests/ufq/Makefile", True),
    ("tools/ufq_iosched/ufq_simple.bpf.c", True),
    ("selftests/ufq/run.sh", False),
    ("selftests/drgn/checks.py", False),
    ("selftests/bench/server.awk", False),
    ("selftests/ufq/settings", False),
    ("tools/ufq_iosched/README.md", False),
    ("Documentation/block/ufq-iosched.rst", False),
    ("harness/cli.py", False),
    ("tests/unit/test_x.py", False),
    ("selftests/ufq/__pycache__/x.cpython-311.pyc", False),
    ("selftests/ufq/.x.swp", False),
])
def test_build_inputs(path: str, expected: bool) -> None:
    assert is_build_input(path) is expected


def _checkout(tmp_path: Path) -> Layout:
    layout = Layout(repo=tmp_path)
    (tmp_path / "block").mkdir()
    (tmp_path / "block/ufq.c").write_text("int x;\n")
    (tmp_path / "selftests/ufq").mkdir(parents=True)
    (tmp_path / "selftests/ufq/run.sh").write_text("echo\n")
    layout.bzimage.parent.mkdir(parents=True)
    layout.bzimage.write_text("kernel")
    return layout


def test_fresh_build_passes(tmp_path: Path) -> None:
    layout = _checkout(tmp_path)
    write_stamp(layout, source_fingerprints(tmp_path))
    check_fresh(layout)


def test_edited_source_is_named(tmp_path: Path) -> None:
    layout = _checkout(tmp_path)
    write_stamp(layout, source_fingerprints(tmp_path))
    src = tmp_path / "block/ufq.c"
    src.write_text("int y;\n")
    os.utime(src, ns=(1, 1))
    with pytest.raises(StaleBuildError, match=r"changed: block/ufq\.c.*harness build"):
        check_fresh(layout)


def test_new_and_removed_sources_are_named(tmp_path: Path) -> None:
    layout = _checkout(tmp_path)
    write_stamp(layout, source_fingerprints(tmp_path))
    (tmp_path / "block/new.c").write_text("\n")
    (tmp_path / "block/ufq.c").unlink()
    with pytest.raises(StaleBuildError, match=r"new: block/new\.c; removed: block/ufq\.c"):
        check_fresh(layout)


def test_runtime_scripts_do_not_make_it_stale(tmp_path: Path) -> None:
    layout = _checkout(tmp_path)
    write_stamp(layout, source_fingerprints(tmp_path))
    (tmp_path / "selftests/ufq/run.sh").write_text("echo changed\n")
    check_fresh(layout)


def test_cover_letter_does_not_make_it_stale(tmp_path: Path) -> None:
    """The cover letter is the series' text, not a build input; a stamp of
    an older harness that listed it does not make the build stale either."""
    layout = _checkout(tmp_path)
    (tmp_path / "kernel-patches").mkdir()
    (tmp_path / "kernel-patches/series").write_text("0001-x.patch\n")
    cover = tmp_path / "kernel-patches/cover-letter"
    cover.write_text("Subject: x\n")
    prints = source_fingerprints(tmp_path)
    assert "kernel-patches/cover-letter" not in prints
    write_stamp(layout, {**prints, "kernel-patches/cover-letter": "1:1"})
    cover.write_text("Subject: y\n")
    os.utime(cover, ns=(2, 2))
    check_fresh(layout)


def test_no_stamp_or_no_kernel(tmp_path: Path) -> None:
    layout = _checkout(tmp_path)
    with pytest.raises(StaleBuildError, match="no finished test build"):
        check_fresh(layout)
    write_stamp(layout, source_fingerprints(tmp_path))
    layout.bzimage.unlink()
    with pytest.raises(StaleBuildError, match="no kernel"):
        check_fresh(layout)


def test_bench_profile_names_its_command(tmp_path: Path) -> None:
    layout = _checkout(tmp_path).with_profile("bench")
    with pytest.raises(StaleBuildError, match=r"harness build --profile bench"):
        check_fresh(layout)
