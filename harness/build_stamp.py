"""Whether a build is older than the sources it was built from.

`harness build` ends by writing a stamp: a digest of every source file the
build consumes (the series, the new kernel files, the config fragments, the
selftest and tool sources it compiles).  Commands that boot the build
(`suite`, `demo`, `run`, `drgn`) compare it with the sources as they are now
and refuse a stale build, naming what changed, instead of running old
binaries against new test scripts (a stale run reports "unknown mode" from
a BPF program that predates its test).

Files run from the checkout as they are (shell, Python and awk scripts,
settings, documentation) and the series' cover letter are not inputs of
the build and do not make it stale.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from harness.layout import Layout

# Directories of the checkout whose files the build reads.
SOURCE_ROOTS = ("kernel-patches", "block", "io_uring", "drivers", "include", "kernel",
                "lib", "net", "tools", "selftests")
# Files read at run time from the checkout, not built (Documentation/ is
# copied into the tree but changes no binary, so it is not a root either).
RUNTIME_SUFFIXES = (".sh", ".py", ".awk", ".md", ".txt", ".json")
RUNTIME_NAMES = ("settings", "README")
# The series' cover letter: `harness series` sends it, no build reads it.
NOT_BUILT = ("kernel-patches/cover-letter",)
SKIPPED_DIRS = ("__pycache__", ".pytest_cache")

STAMP_NAME = "sources.stamp"


class StaleBuildError(Exception):
    """The build predates a change of its sources."""


@dataclass(frozen=True)
class Staleness:
    """What differs between the stamp of the build and the sources now."""

    changed: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def stale(self) -> bool:
        return bool(self.changed or self.added or self.removed)

    def describe(self, limit: int = 5) -> str:
        parts = []
        for what, names in (("changed", self.changed), ("new", self.added),
                            ("removed", self.removed)):
            if names:
                shown = ", ".join(names[:limit])
                more = f" and {len(names) - limit} more" if len(names) > limit else ""
                parts.append(f"{what}: {shown}{more}")
        return "; ".join(parts)


def is_build_input(relpath: str) -> bool:
    """Whether a file (path relative to the checkout) is read by the build."""
    parts = relpath.split("/")
    if parts[0] not in SOURCE_ROOTS or any(p in SKIPPED_DIRS for p in parts):
        return False
    if relpath in NOT_BUILT:
        return False
    name = parts[-1]
    if name.startswith(".") and name != ".gitignore":
        return False
    return not (name.endswith(RUNTIME_SUFFIXES) or name in RUNTIME_NAMES)


def source_fingerprints(repo: Path) -> dict[str, str]:
    """Each build input of the checkout with its size and mtime."""
    prints: dict[str, str] = {}
    for root in SOURCE_ROOTS:
        top = repo / root
        if not top.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIPPED_DIRS)
            for name in filenames:
                path = Path(dirpath) / name
                rel = path.relative_to(repo).as_posix()
                if not is_build_input(rel):
                    continue
                st = path.stat()
                prints[rel] = f"{st.st_size}:{st.st_mtime_ns}"
    return prints


def compare(then: dict[str, str], now: dict[str, str]) -> Staleness:
    return Staleness(
        changed=tuple(sorted(k for k in then.keys() & now.keys() if then[k] != now[k])),
        added=tuple(sorted(now.keys() - then.keys())),
        removed=tuple(sorted(then.keys() - now.keys())),
    )


def stamp_path(layout: Layout) -> Path:
    return layout.profile_dir / STAMP_NAME


def write_stamp(layout: Layout, prints: dict[str, str]) -> None:
    """Record the sources a finished build was made from.  Take ``prints``
    before the build starts: a file edited during the build then shows as
    changed."""
    path = stamp_path(layout)
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(json.dumps(prints, sort_keys=True).encode()).hexdigest()
    path.write_text(json.dumps({"digest": digest, "files": prints}, sort_keys=True))


def check_fresh(layout: Layout) -> None:
    """Raise StaleBuildError unless the build of ``layout``'s profile is
    present and was made from the sources as they are now."""
    build_cmd = "python -m harness build" + (
        "" if layout.profile == "test" else f" --profile {layout.profile}")
    path = stamp_path(layout)
    if not layout.bzimage.is_file() or not path.is_file():
        raise StaleBuildError(f"no finished {layout.profile} build in {layout.profile_dir} "
                              f"(no kernel or no {STAMP_NAME}): run `{build_cmd}`")
    try:
        then = json.loads(path.read_text())["files"]
    except (ValueError, KeyError) as err:
        raise StaleBuildError(f"{path} is unreadable ({err}): run `{build_cmd}`") from err
    # a stamp of an older harness may list files it no longer counts as inputs
    then = {k: v for k, v in then.items() if is_build_input(k)}
    diff = compare(then, source_fingerprints(layout.repo))
    if diff.stale:
        raise StaleBuildError(f"the {layout.profile} build in {layout.profile_dir} is older "
                              f"than its sources ({diff.describe()}): run `{build_cmd}`")
