"""Writing the series: commits per entry with their new files, cover letter,
and the sign-off of the person who runs it (never an invented one)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from harness.layout import Layout
from harness.series import parse_series
from harness.tree import Base
from harness.submission import Identity, SubmissionError, format_patches, justifications, \
    make_commits, parse_identity, signer_identity

from .test_series_and_tree import GOOD_DIFF, make_patch, project  # noqa: F401

REPO = Path(__file__).resolve().parents[2]
# test data, not a person: the mechanism is what is checked
RUNNER = Identity("harness selftest", "selftest@harness.invalid")


def test_commits_and_format_patch(project: tuple[Layout, Base], tmp_path: Path) -> None:  # noqa: F811
    layout, base = project
    (layout.patches_dir / "cover-letter").write_text("Subject line\nThe blurb.\n")
    repo = tmp_path / "git"
    entries = parse_series(layout.series_file)
    make_commits(layout, base, entries, repo, RUNNER)
    log = subprocess.run(["git", "-C", str(repo), "log", "--format=%an <%ae>|%cn|%s",
                          "base..series"], capture_output=True, text=True, check=True).stdout
    assert log.strip() == f"{RUNNER}|{RUNNER.name}|block: add ufq"
    files = subprocess.run(["git", "-C", str(repo), "show", "--name-only", "--format=", "HEAD"],
                           capture_output=True, text=True, check=True).stdout.split()
    assert sorted(files) == ["block/Makefile", "block/ufq-iosched.c"]
    patches = format_patches(layout, repo, tmp_path / "out", len(entries))
    assert [p.name for p in patches] == ["0000-cover-letter.patch", "0001-block-add-ufq.patch"]
    cover = patches[0].read_text()
    assert "Subject line" in cover and "The blurb." in cover
    body = patches[1].read_text()
    assert f"From: {RUNNER}" in body
    assert "Subject: [PATCH 1/1] block: add ufq" in body
    assert f"Why this change is needed.\n\nSigned-off-by: {RUNNER}\n---\n" in body
    assert "+obj-y += ufq-iosched.o" in body and "+/* ufq */" in body


def test_signer_is_the_git_identity_of_the_runner(project: tuple[Layout, Base],  # noqa: F811
                                                  tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    layout, _ = project
    subprocess.run(["git", "init", "-q", str(layout.repo)], check=True)
    gitconfig = tmp_path / "gitconfig"
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    with pytest.raises(SubmissionError, match="no identity to sign the series with"):
        signer_identity(layout)
    gitconfig.write_text(f"[user]\n\tname = {RUNNER.name}\n\temail = {RUNNER.email}\n")
    assert signer_identity(layout) == RUNNER
    given = signer_identity(layout, "Someone Else <else@harness.invalid>")
    assert given == Identity("Someone Else", "else@harness.invalid")
    with pytest.raises(SubmissionError, match="is not an identity"):
        parse_identity("just a name")


def test_repository_patches_carry_no_invented_identity() -> None:
    # The series is authored and signed off by whoever writes it out.
    for patch in sorted((REPO / "kernel-patches").glob("*.patch")):
        head = patch.read_text().split("\ndiff --git ", 1)[0]
        assert not re.search(r"^From: ", head, re.M), f"{patch.name} names an author"
        assert "Signed-off-by:" not in head, f"{patch.name} carries a sign-off"
    for path in (REPO / "kernel-patches").iterdir():
        assert "example.org" not in path.read_text(), f"{path.name} names a made-up address"


def test_justifications_are_read_from_patch_notes(tmp_path: Path) -> None:
    patch = tmp_path / "p.patch"
    patch.write_text(make_patch("x: y", "checkpatch: FILE_PATH_CHANGES: MAINTAINERS comes later\n\n"
                                + GOOD_DIFF))
    found = justifications(patch)
    assert [(j.report_type, j.reason) for j in found] == [
        ("FILE_PATH_CHANGES", "MAINTAINERS comes later")]
