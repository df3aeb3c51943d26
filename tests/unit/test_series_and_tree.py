"""Tree assembly on a tiny fake base: patches, new files, errors, rebuild-friendliness."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from harness.layout import Layout
from harness.series import SeriesError, diff_paths, parse_patch_message, parse_series
from harness.tree import AssemblyError, Base, assemble

BASE_FILES = {
    "Makefile": "all:\n",
    "Kconfig": "# top\n",
    "block/Makefile": "obj-y += blk-core.o\nobj-y += blk-mq.o\n",
    "block/Kconfig.iosched": "menu \"IO Schedulers\"\n\nendmenu\n",
}


def make_patch(subject: str, diff: str) -> str:
    return textwrap.dedent(f"""\
        From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001
        Date: Sun, 22 Nov 2026 00:00:00 +0000
        Subject: [PATCH] {subject}

        Why this change is needed.
        ---
        """) + diff


GOOD_DIFF = textwrap.dedent("""\
    --- a/block/Makefile
    +++ b/block/Makefile
    @@ -1,2 +1,3 @@
     obj-y += blk-core.o
     obj-y += blk-mq.o
    +obj-y += ufq-iosched.o
    """)

BAD_DIFF = textwrap.dedent("""\
    --- a/block/Makefile
    +++ b/block/Makefile
    @@ -1,2 +1,3 @@
     obj-y += blk-core.o
     obj-y += blk-nonexistent.o
    +obj-y += other.o
    """)


@pytest.fixture
def project(tmp_path: Path) -> tuple[Layout, Base]:
    base_dir = tmp_path / "base"
    for rel, text in BASE_FILES.items():
        (base_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (base_dir / rel).write_text(text)
    repo = tmp_path / "repo"
    (repo / "kernel-patches").mkdir(parents=True)
    (repo / "block").mkdir()
    (repo / "block/ufq-iosched.c").write_text("/* ufq */\n")
    (repo / "kernel-patches/0001-block-add-ufq.patch").write_text(
        make_patch("block: add ufq", GOOD_DIFF))
    (repo / "kernel-patches/series").write_text(
        "# comment\n0001-block-add-ufq.patch\n    block/ufq-iosched.c\n")
    return Layout(repo=repo), Base(path=base_dir, identity="fake-base")


def test_series_parses_entries_and_new_files(project: tuple[Layout, Base]) -> None:
    layout, _ = project
    entries = parse_series(layout.series_file)
    assert [e.name for e in entries] == ["0001-block-add-ufq.patch"]
    assert entries[0].new_files == ["block/ufq-iosched.c"]
    assert entries[0].touched_files() == ["block/Makefile"]
    msg = parse_patch_message(entries[0].patch)
    assert msg.subject == "block: add ufq"
    assert msg.author is None  # written and signed by whoever runs `harness series`
    assert msg.body == "Why this change is needed.\n"


def test_series_rejects_missing_patch(project: tuple[Layout, Base]) -> None:
    layout, _ = project
    layout.series_file.write_text("0002-missing.patch\n")
    with pytest.raises(SeriesError, match="0002-missing.patch does not exist"):
        parse_series(layout.series_file)


def test_series_rejects_new_file_before_patch(project: tuple[Layout, Base]) -> None:
    layout, _ = project
    layout.series_file.write_text("    block/x.c\n")
    with pytest.raises(SeriesError, match="before any patch"):
        parse_series(layout.series_file)


def test_diff_paths_ignores_message_and_dev_null() -> None:
    text = make_patch("x: y", "--- /dev/null\n+++ b/new.c\n@@ -0,0 +1 @@\n+x\n"
                      "--- a/old.c\n+++ b/old.c\n")
    assert diff_paths(text) == ["new.c", "old.c"]


def test_assemble_applies_patch_and_copies_new_files(project: tuple[Layout, Base]) -> None:
    layout, base = project
    result = assemble(layout, base=base)
    tree = layout.tree
    assert (tree / "block/Makefile").read_text().endswith("obj-y += ufq-iosched.o\n")
    assert (tree / "block/ufq-iosched.c").read_text() == "/* ufq */\n"
    assert (tree / "Kconfig").read_text() == "# top\n"
    assert sorted(result.rewritten) == ["block/Makefile", "block/ufq-iosched.c"]
    # The base is never modified.
    assert (base.path / "block/Makefile").read_text() == BASE_FILES["block/Makefile"]
    assert not (base.path / "block/ufq-iosched.c").exists()


CREATE_DIFF = textwrap.dedent("""\
    --- /dev/null
    +++ b/block/ufq-iosched.c
    @@ -0,0 +1 @@
    +/* ufq, first version */
    """)


def test_file_created_by_a_diff_then_carried_by_a_later_patch(
        project: tuple[Layout, Base]) -> None:
    """UFQ's layout: patch 1 creates a file with its diff, patch 2 (no diff
    of its own) carries the final version kept in the repository."""
    layout, base = project
    patches = layout.repo / "kernel-patches"
    (patches / "0001-block-add-ufq.patch").write_text(make_patch("block: add ufq", CREATE_DIFF))
    (patches / "0002-block-ufq-finish.patch").write_text(make_patch("block/ufq: finish", ""))
    (patches / "series").write_text("0001-block-add-ufq.patch\n"
                                    "0002-block-ufq-finish.patch\n    block/ufq-iosched.c\n")
    assert parse_series(layout.series_file)[1].touched_files() == []
    assemble(layout, base=base, upto=1)
    assert (layout.tree / "block/ufq-iosched.c").read_text() == "/* ufq, first version */\n"
    assemble(layout, base=base)
    assert (layout.tree / "block/ufq-iosched.c").read_text() == "/* ufq */\n"
    assemble(layout, base=base, upto=0)
    assert not (layout.tree / "block/ufq-iosched.c").exists()


def test_reassembly_rewrites_only_what_changed(project: tuple[Layout, Base]) -> None:
    layout, base = project
    assemble(layout, base=base)
    makefile = layout.tree / "block/Makefile"
    old = makefile.stat().st_mtime_ns
    os.utime(makefile, ns=(old - 10**9, old - 10**9))
    stamp = makefile.stat().st_mtime_ns
    (layout.repo / "block/ufq-iosched.c").write_text("/* ufq v2 */\n")
    result = assemble(layout, base=base)
    assert result.rewritten == ["block/ufq-iosched.c"]
    assert makefile.stat().st_mtime_ns == stamp  # untouched: make won't rebuild it
    assert (layout.tree / "block/ufq-iosched.c").read_text() == "/* ufq v2 */\n"


def test_dropping_a_patch_restores_base_files(project: tuple[Layout, Base]) -> None:
    layout, base = project
    assemble(layout, base=base)
    layout.series_file.write_text("")
    result = assemble(layout, base=base)
    assert sorted(result.rewritten) == ["block/Makefile", "block/ufq-iosched.c"]
    assert (layout.tree / "block/Makefile").read_text() == BASE_FILES["block/Makefile"]
    assert not (layout.tree / "block/ufq-iosched.c").exists()


def test_broken_patch_names_patch_and_rejected_hunk(project: tuple[Layout, Base]) -> None:
    layout, base = project
    (layout.repo / "kernel-patches/0002-block-broken.patch").write_text(
        make_patch("block: broken", BAD_DIFF))
    with open(layout.series_file, "a") as fh:
        fh.write("0002-block-broken.patch\n")
    with pytest.raises(AssemblyError) as err:
        assemble(layout, base=base)
    text = str(err.value)
    assert "patch 0002-block-broken.patch does not apply" in text
    assert "Hunk #1 FAILED" in text
    assert "+obj-y += other.o" in text  # the rejected hunk itself


def test_missing_new_file_is_named(project: tuple[Layout, Base]) -> None:
    layout, base = project
    (layout.repo / "block/ufq-iosched.c").unlink()
    with pytest.raises(AssemblyError, match="new file block/ufq-iosched.c .* missing"):
        assemble(layout, base=base)


def test_new_file_clashing_with_base_is_refused(project: tuple[Layout, Base]) -> None:
    layout, base = project
    layout.series_file.write_text("0001-block-add-ufq.patch\n    Kconfig\n")
    (layout.repo / "Kconfig").write_text("# mine\n")
    with pytest.raises(AssemblyError, match="already exists in the base"):
        assemble(layout, base=base)


def test_patch_tool_is_available() -> None:
    assert subprocess.run(["patch", "--version"], capture_output=True).returncode == 0


def test_unpatched_profile_assembles_its_own_base_tree(project: tuple[Layout, Base]) -> None:
    layout, base = project
    assemble(layout, base=base)
    unpatched = layout.with_profile("unpatched")
    result = assemble(unpatched, upto=unpatched.series_upto, base=base)
    assert result.applied == [] and unpatched.tree == layout.build_dir / "unpatched/linux"
    assert (unpatched.tree / "block/Makefile").read_text() == BASE_FILES["block/Makefile"]
    assert not (unpatched.tree / "block/ufq-iosched.c").exists()
    assert (unpatched.profile_dir / "assembly.json").is_file()
    # the series' tree and its state are untouched
    assert (layout.tree / "block/ufq-iosched.c").is_file()
    assert (layout.build_dir / "assembly.json").is_file()
    assert assemble(layout, base=base).rewritten == []
