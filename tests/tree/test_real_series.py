"""The real series: it applies to the base and is checkpatch --strict clean.

Uses the real base tree (unpacked by the build), so it is marked ``tree``;
it does not boot a guest.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.layout import Layout
from harness.series import parse_series

pytestmark = pytest.mark.tree


def test_make_series_is_checkpatch_clean(built: Layout, tmp_path: Path) -> None:
    entries = parse_series(built.series_file)
    assert entries, "the series has no patch yet"
    out = tmp_path / "series"
    # whoever runs it signs: here a git identity of the test's own (test
    # data, not a person), so that the run does not depend on the machine's
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = harness selftest\n"
                         "\temail = selftest@harness.invalid\n")
    env = {**os.environ, "GIT_CONFIG_GLOBAL": str(gitconfig), "GIT_CONFIG_NOSYSTEM": "1"}
    proc = subprocess.run([sys.executable, "-m", "harness", "series", "--out", str(out)],
                          cwd=built.repo, capture_output=True, text=True, timeout=1800,
                          env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    patches = sorted(out.glob("*.patch"))
    assert len(patches) == len(entries) + 1  # and a cover letter
    for patch, entry in zip(patches[1:], entries, strict=True):
        text = patch.read_text()
        # git format-patch pads the number to the width of the count
        number = f"{entries.index(entry) + 1:0{len(str(len(entries)))}d}"
        assert f"Subject: [PATCH {number}/{len(entries)}] " in text
        assert "From: harness selftest <selftest@harness.invalid>" in text
        assert text.count("Signed-off-by: ") == 1
        assert "Signed-off-by: harness selftest <selftest@harness.invalid>\n---\n" in text
        for new_file in entry.new_files:
            assert f"+++ b/{new_file}" in text, f"{new_file} missing from {patch.name}"
    assert "clean" in proc.stderr
