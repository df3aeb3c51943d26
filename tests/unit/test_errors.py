"""Failures end in a message that names what failed and what to do."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from harness import cli
from harness.layout import Layout
from harness.tools import ToolError, run_tool
from harness.tree import AssemblyError, ksrc_base


def test_missing_tool_says_how_to_install_it() -> None:
    with pytest.raises(ToolError, match=r"no-such-tool-xyz not found: install it with "
                                        r"`make deps`"):
        run_tool(["no-such-tool-xyz", "--version"], "probing")


def test_failing_tool_names_the_step_and_shows_its_stderr() -> None:
    with pytest.raises(ToolError) as err:
        run_tool(["tar", "-xf", "/nonexistent.tar.xz"], "unpacking /nonexistent.tar.xz")
    text = str(err.value)
    assert text.startswith("unpacking /nonexistent.tar.xz failed (exit 2): tar -xf")
    assert "/nonexistent.tar.xz" in text.splitlines()[1]


def fake_ksrc(tmp_path: Path) -> Path:
    root = tmp_path / "linux"
    (root / "block").mkdir(parents=True)
    (root / "Makefile").write_text("all:\n")
    (root / "Kconfig").write_text("# top\n")
    (root / "block/blk-mq.c").write_text("/* blk-mq */\n")
    return root


def test_ksrc_built_in_place_is_refused(tmp_path: Path) -> None:
    root = fake_ksrc(tmp_path)
    (root / "include/config").mkdir(parents=True)
    with pytest.raises(AssemblyError, match=r"has been built in place \(include/config\).*"
                                            r"make mrproper"):
        ksrc_base(root)
    (root / ".config").write_text("CONFIG_BLOCK=y\n")
    with pytest.raises(AssemblyError, match=r"\(\.config, include/config\)"):
        ksrc_base(root)


def test_ksrc_identity_covers_uncommitted_edits(tmp_path: Path) -> None:
    root = fake_ksrc(tmp_path)
    before = ksrc_base(root).identity
    assert ksrc_base(root).identity == before
    path = root / "block/blk-mq.c"
    path.write_text("/* blk-mq, edited */\n")
    later = time.time() + 5
    os.utime(path, (later, later))
    assert ksrc_base(root).identity != before
    (root / "block/new.c").write_text("\n")
    assert len({before, ksrc_base(root).identity}) == 2


def test_harness_bug_is_a_message_not_a_traceback(monkeypatch: pytest.MonkeyPatch,
                                                  tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    def broken(layout: Layout, args: object) -> int:
        raise KeyError("area")

    monkeypatch.setattr(cli, "Layout", lambda: Layout(repo=tmp_path))
    monkeypatch.setattr(cli, "_cmd_tree", broken)
    assert cli.main(["tree"]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "error: the harness failed in `tree` with KeyError: 'area'" in err
    saved = tmp_path / "out/harness-traceback.txt"
    assert f"the traceback is in {saved}" in err
    assert "KeyError" in saved.read_text()
