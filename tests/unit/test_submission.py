"""Writing the series: commits per entry with their new files, cover letter."""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.layout import Layout
from harness.series import parse_series
from harness.submission import format_patches, justifications, make_commits
from harness.tree import Base

from .test_series_and_tree import GOOD_DIFF, make_patch, project  # noqa: F401


def test_commits_and_format_patch(project: tuple[Layout, Base], tmp_path: Path) -> None:  # noqa: F811
    layout, base = project
    (layout.patches_dir / "cover-letter").write_text("Subject line\nThe blurb.\n")
    repo = tmp_path / "git"
    entries = parse_series(layout.series_file)
    make_commits(layout, base, entries, repo)
    log = subprocess.run(["git", "-C", str(repo), "log", "--format=%an|%s", "base..series"],
                         capture_output=True, text=True, check=True).stdout
    assert log.strip() == "UFQ Developers|block: add ufq"
    files = subprocess.run(["git", "-C", str(repo), "show", "--name-only", "--format=", "HEAD"],
                           capture_output=True, text=True, check=True).stdout.split()
    assert sorted(files) == ["block/Makefile", "block/ufq-iosched.c"]
    patches = format_patches(layout, repo, tmp_path / "out", len(entries))
    assert [p.name for p in patches] == ["0000-cover-letter.patch", "0001-block-add-ufq.patch"]
    cover = patches[0].read_text()
    assert "Subject line" in cover and "The blurb." in cover
    body = patches[1].read_text()
    assert "Subject: [PATCH 1/1] block: add ufq" in body
    assert "Signed-off-by: UFQ Developers <ufq-dev@example.org>" in body
    assert "+obj-y += ufq-iosched.o" in body and "+/* ufq */" in body


def test_justifications_are_read_from_patch_notes(tmp_path: Path) -> None:
    patch = tmp_path / "p.patch"
    patch.write_text(make_patch("x: y", "checkpatch: FILE_PATH_CHANGES: MAINTAINERS comes later\n\n"
                                + GOOD_DIFF))
    found = justifications(patch)
    assert [(j.report_type, j.reason) for j in found] == [
        ("FILE_PATH_CHANGES", "MAINTAINERS comes later")]
