"""Read kernel-patches/series: the ordered patches and the new files of each.

Format (see the comment at the top of the file itself)::

    # comment
    0001-bpf-Add-KF_SPIN_LOCK-flag.patch
    0002-block-Introduce-the-UFQ-I-O-scheduler.patch
        block/ufq-iosched.c
        block/ufq-iosched.h

An entry line names a patch file in kernel-patches/; indented lines under it
name new kernel files, kept in the repository at their tree paths, that the
same commit adds.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass, field
from pathlib import Path


class SeriesError(Exception):
    """The series file or one of its patches is malformed."""


@dataclass(frozen=True)
class PatchMessage:
    author: str | None  # a From: header: the patch's real author, when not ours
    subject: str
    body: str


@dataclass
class SeriesEntry:
    name: str
    patch: Path
    new_files: list[str] = field(default_factory=list)

    def touched_files(self) -> list[str]:
        """Existing kernel files the patch's diff modifies (tree paths)."""
        return diff_paths(self.patch.read_text(errors="replace"))

    def message(self) -> PatchMessage:
        return parse_patch_message(self.patch)


_DIFF_PATH = re.compile(r"^(?:---|\+\+\+) (?:[ab]/)?(\S+)")


def diff_paths(text: str) -> list[str]:
    """Paths named by a unified diff's ---/+++ lines, /dev/null excluded."""
    paths: list[str] = []
    _, sep, diff = text.partition("\n---\n")
    for line in (diff if sep else text).splitlines():
        if line.startswith(("--- ", "+++ ")):
            m = _DIFF_PATH.match(line)
            if m and m.group(1) != "/dev/null" and m.group(1) not in paths:
                paths.append(m.group(1))
    return paths


def parse_series(series_file: Path) -> list[SeriesEntry]:
    if not series_file.exists():
        raise SeriesError(f"{series_file}: missing (it lists the patch series)")
    entries: list[SeriesEntry] = []
    patches_dir = series_file.parent
    for lineno, raw in enumerate(series_file.read_text().splitlines(), 1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{series_file}:{lineno}"
        if line[0] in " \t":
            if not entries:
                raise SeriesError(f"{where}: new file {line.strip()!r} before any patch")
            path = line.strip()
            if path.startswith("/") or ".." in Path(path).parts:
                raise SeriesError(f"{where}: new file must be a relative tree path: {path}")
            entries[-1].new_files.append(path)
            continue
        name = line.strip()
        patch = patches_dir / name
        if not patch.is_file():
            raise SeriesError(f"{where}: patch {name} does not exist in {patches_dir}")
        if any(e.name == name for e in entries):
            raise SeriesError(f"{where}: patch {name} listed twice")
        entries.append(SeriesEntry(name=name, patch=patch))
    return entries


def parse_patch_message(patch: Path) -> PatchMessage:
    """Author, subject (without [PATCH]) and body of a format-patch file.

    The project's own patches carry no From: and no Signed-off-by: the
    person who writes the series out (``harness series``) is their author
    and signs them off, as ``git format-patch -s`` does.  A From: header
    names a real author of a patch carried from elsewhere.
    """
    text = patch.read_text(errors="replace")
    head, sep, _ = text.partition("\n---\n")
    if not sep:
        # A patch with a message only (all its content is new files).
        head = text
    lines = head.splitlines()
    if lines and lines[0].startswith("From ") and not lines[0].startswith("From:"):
        lines = lines[1:]
    msg = email.message_from_string("\n".join(lines), policy=email.policy.default)
    author = str(msg.get("From", "")).strip() or None
    subject = re.sub(r"^\[PATCH[^\]]*\]\s*", "", str(msg.get("Subject", "")).strip())
    body = msg.get_payload()
    if not isinstance(body, str):
        raise SeriesError(f"{patch}: not a plain format-patch message")
    if not subject:
        raise SeriesError(f"{patch}: needs a Subject: header (git format-patch form)")
    return PatchMessage(author=author, subject=subject, body=body.strip() + "\n")
