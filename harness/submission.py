"""Write the series for submission: commits, format-patch files, checkpatch.

The commits are made in a scratch git repository (build/series-git) whose
base commit holds the pristine versions of just the files the series
touches: the diffs, blob ids and diffstats are the same as against a full
tree, at a fraction of the cost.  Each patch becomes one commit together
with the new files listed under it in kernel-patches/series.

A patch may justify a checkpatch report it keeps, with a line in its notes
(between ``---`` and the diff)::

    checkpatch: FILE_PATH_CHANGES: MAINTAINERS is updated in the last patch

The report type is then ignored for that patch only, the reason is printed,
and the line is carried below ``---`` of the written patch for reviewers.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from harness.layout import Layout
from harness.progress import say
from harness.series import SeriesEntry, parse_series
from harness.tools import missing
from harness.tree import Base, prepare_base

COVER_FILE = "cover-letter"
_JUSTIFY = re.compile(r"^checkpatch:\s*([A-Z_]+)\s*:\s*(.+)$")
_DATE = re.compile(r"^Date:\s*(.+)$", re.MULTILINE)


class SubmissionError(Exception):
    """The series could not be written, or checkpatch / a bisect build failed."""


@dataclass(frozen=True)
class Justification:
    report_type: str
    reason: str


def justifications(patch: Path) -> list[Justification]:
    text = patch.read_text(errors="replace")
    _, sep, rest = text.partition("\n---\n")
    if not sep:
        return []
    notes = rest.split("\ndiff --git ", 1)[0].split("\n--- a/", 1)[0]
    found = []
    for line in notes.splitlines():
        m = _JUSTIFY.match(line.strip())
        if m:
            found.append(Justification(m.group(1), m.group(2).strip()))
    return found


def _git(repo: Path, *args: str, env: dict[str, str] | None = None,
         input_text: str | None = None) -> str:
    try:
        proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              env=env, input=input_text)
    except FileNotFoundError as exc:
        raise missing("git") from exc
    if proc.returncode != 0:
        raise SubmissionError(f"git {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")
    return proc.stdout


@dataclass(frozen=True)
class Identity:
    """A person: who writes the series out and signs it off."""

    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def parse_identity(text: str) -> Identity:
    m = re.match(r"^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$", text)
    if not m or not m.group(1):
        raise SubmissionError(f"{text!r} is not an identity: give 'Full Name <email>'")
    return Identity(m.group(1), m.group(2))


def signer_identity(layout: Layout, given: str | None = None) -> Identity:
    """Who signs the series: ``given`` ('Name <email>'), or the git identity
    (user.name, user.email) of whoever runs the harness.  Never invented."""
    if given:
        return parse_identity(given)
    values = []
    for key in ("user.name", "user.email"):
        proc = subprocess.run(["git", "-C", str(layout.repo), "config", key],
                              capture_output=True, text=True)
        values.append(proc.stdout.strip() if proc.returncode == 0 else "")
    name, email = values
    if not name or not email:
        raise SubmissionError(
            "no identity to sign the series with: the patches are written and signed off "
            "by the person who runs `harness series`; set yours with `git config --global "
            "user.name 'Full Name'` and `git config --global user.email you@example.com`, "
            "or pass --signoff 'Full Name <email>'")
    return Identity(name, email)


def make_commits(layout: Layout, base: Base, entries: list[SeriesEntry], repo: Path,
                 signer: Identity) -> None:
    """A scratch repository: a base commit, then one commit per series entry,
    written and signed off by ``signer`` (authored by a patch's From:, if
    it names another author)."""
    if repo.exists():
        shutil.rmtree(repo)
    repo.mkdir(parents=True)
    _git(repo, "init", "-q", "-b", "series")
    _git(repo, "config", "user.name", signer.name)
    _git(repo, "config", "user.email", signer.email)
    _git(repo, "config", "core.abbrev", "12")
    touched = sorted({p for e in entries for p in e.touched_files()})
    for rel in touched:
        src = base.path / rel
        if src.is_file():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, repo / rel)
    _git(repo, "add", "-A")
    stamp = "2026-01-01T00:00:00Z"
    fixed = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    env = {**os.environ, **fixed}
    _git(repo, "commit", "-q", "--allow-empty", "-m", f"base: {base.identity}", env=env)
    _git(repo, "tag", "base")
    for entry in entries:
        msg = entry.message()
        author = parse_identity(msg.author) if msg.author else signer
        if entry.touched_files():
            proc = subprocess.run(["git", "-C", str(repo), "apply", "--index", str(entry.patch)],
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                raise SubmissionError(f"patch {entry.name} does not apply to the base:\n"
                                      f"{proc.stderr}")
        for rel in entry.new_files:
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(layout.repo / rel, repo / rel)
            _git(repo, "add", rel)
        date = _DATE.search(entry.patch.read_text(errors="replace"))
        cenv = {**env, "GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email,
                "GIT_COMMITTER_NAME": signer.name, "GIT_COMMITTER_EMAIL": signer.email}
        if date:
            cenv["GIT_AUTHOR_DATE"] = date.group(1).strip()
        _git(repo, "commit", "-q", "--signoff", "--allow-empty", "-F", "-", env=cenv,
             input_text=f"{msg.subject}\n\n{msg.body}")
        notes = [f"checkpatch: {j.report_type}: {j.reason}" for j in justifications(entry.patch)]
        if notes:
            _git(repo, "notes", "add", "-m", "\n".join(notes), "HEAD")


def format_patches(layout: Layout, repo: Path, out: Path, count: int) -> list[Path]:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    _git(repo, "format-patch", "-q", "--notes", "--cover-letter", "--no-signature",
         "-o", str(out), "base..series")
    patches = sorted(out.glob("*.patch"))
    cover = patches[0]
    subject, blurb = read_cover(layout)
    text = cover.read_text()
    text = text.replace("*** SUBJECT HERE ***", subject).replace("*** BLURB HERE ***", blurb)
    cover.write_text(text)
    if len(patches) != count + 1:
        raise SubmissionError(f"expected {count} patches and a cover letter in {out}, "
                              f"found {len(patches)} files")
    return patches


def read_cover(layout: Layout) -> tuple[str, str]:
    path = layout.patches_dir / COVER_FILE
    if not path.exists():
        raise SubmissionError(f"{path} missing: first line the cover subject, then the blurb")
    lines = path.read_text().splitlines()
    return lines[0].strip(), "\n".join(lines[1:]).strip()


def checkpatch(layout: Layout, patches: list[Path], entries: list[SeriesEntry]) -> list[str]:
    """Run checkpatch --strict on each patch; return the failures."""
    script = layout.tree / "scripts/checkpatch.pl"
    failures = []
    for patch, entry in zip(patches[1:], entries, strict=True):
        ignores = justifications(entry.patch)
        cmd = ["perl", str(script), "--strict", "--terse", "--no-summary", "--showfile"]
        if ignores:
            cmd += ["--ignore", ",".join(j.report_type for j in ignores)]
            for j in ignores:
                say(f"{patch.name}: checkpatch {j.report_type} justified: {j.reason}")
        try:
            proc = subprocess.run(cmd + [str(patch)], capture_output=True, text=True,
                                  cwd=layout.tree)
        except FileNotFoundError as exc:
            raise missing("perl") from exc
        if proc.returncode != 0:
            failures.append(f"{patch.name}:\n{proc.stdout}{proc.stderr}")
        else:
            say(f"{patch.name}: checkpatch --strict clean")
    return failures


def bisect_builds(layout: Layout, count: int) -> None:
    from harness.kbuild import build_kernel, build_lock, configure
    from harness.tree import assemble

    try:
        for k in range(1, count + 1):
            with build_lock():
                result = assemble(layout, upto=k)
                say(f"bisect: building with patches 1..{k} (last: {result.applied[-1]})")
                configure(layout, series_prefix=k < count)
                try:
                    build_kernel(layout)
                except Exception as exc:
                    raise SubmissionError(f"the series does not build at patch {k} "
                                          f"({result.applied[-1]}):\n{exc}") from exc
    finally:
        with build_lock():
            assemble(layout)


def write_series(layout: Layout, out: Path | None = None, *, bisect: bool = False,
                 signoff: str | None = None) -> int:
    entries = parse_series(layout.series_file)
    if not entries:
        print("the series is empty: nothing to write", file=sys.stderr)
        return 1
    signer = signer_identity(layout, signoff)
    say(f"writing the series as {signer} (author and Signed-off-by)")
    out = out or layout.out_dir / "series"
    base = prepare_base(layout)
    from harness.tree import assemble

    assemble(layout)  # checkpatch.pl runs from the assembled tree
    repo = layout.build_dir / "series-git"
    make_commits(layout, base, entries, repo, signer)
    patches = format_patches(layout, repo, out, len(entries))
    say(f"wrote {len(entries)} patches and a cover letter to {out}")
    failures = checkpatch(layout, patches, entries)
    if failures:
        print("checkpatch --strict reports problems:\n" + "\n".join(failures), file=sys.stderr)
        return 1
    if bisect:
        bisect_builds(layout, len(entries))
        say(f"every prefix of the series builds ({len(entries)} builds)")
    return 0
