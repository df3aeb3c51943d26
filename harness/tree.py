"""Assemble a kernel tree: the base, the series applied, the new files in.

The assembled tree is build/linux.  Only files the series touches (now or at
the previous assembly) are ever rewritten, and only when their content
changes, so editing one file and re-assembling rebuilds only what depends on
it.  Patches are applied in a small staging directory holding just the files
they touch, never in the base.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from harness.layout import Layout, base_source
from harness.progress import say
from harness.series import SeriesEntry, parse_series
from harness.tools import missing, run_tool


class AssemblyError(Exception):
    """The tree could not be assembled: names the patch or file at fault."""


@dataclass(frozen=True)
class Base:
    """A pristine kernel tree the series applies to."""

    path: Path
    identity: str


@dataclass
class AssemblyResult:
    tree: Path
    base: Base
    applied: list[str] = field(default_factory=list)
    rewritten: list[str] = field(default_factory=list)


def _tarball_identity(tarball: Path) -> str:
    st = tarball.stat()
    return f"tarball:{tarball}:{st.st_size}:{int(st.st_mtime)}"


def prepare_base(layout: Layout) -> Base:
    """The base tree: the user's KSRC, or the tarball unpacked once."""
    kind, where = base_source()
    if kind == "ksrc":
        return ksrc_base(where)
    return unpack_tarball(where, layout.base_cache)


def ksrc_base(where: Path) -> Base:
    """A user's kernel tree as the base.

    It must be clean of an in-place build: kbuild refuses to build out of
    tree (O=) from a source tree that has its own .config or
    include/config.  Its identity covers every file's size and mtime, not
    only a git commit, so uncommitted edits reach the build tree.
    """
    if not (where / "Makefile").is_file() or not (where / "Kconfig").is_file():
        raise AssemblyError(f"KSRC={where} is not a kernel source tree (no Makefile/Kconfig)")
    built = [rel for rel in (".config", "include/config") if (where / rel).exists()]
    if built:
        raise AssemblyError(
            f"KSRC={where} has been built in place ({', '.join(built)}): the harness "
            "builds out of tree, which kbuild refuses for such a tree; run `make mrproper` "
            "there, or point KSRC at a clean tree")
    head = ""
    if (where / ".git").exists():
        proc = subprocess.run(["git", "-C", str(where), "rev-parse", "HEAD"],
                              capture_output=True, text=True)
        head = proc.stdout.strip()
    return Base(path=where, identity=f"ksrc:{where}:{head}:{tree_digest(where)}")


def tree_digest(root: Path) -> str:
    """A digest of every file's path, size and mtime under ``root`` (.git
    excluded): it changes when any file is edited, added or removed."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not (dirpath == str(root) and d == ".git"))
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            digest.update(f"{os.path.relpath(path, root)}\0{st.st_size}\0"
                          f"{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def unpack_tarball(tarball: Path, cache: Path) -> Base:
    if not tarball.is_file():
        raise AssemblyError(
            f"base tarball {tarball} not found: install Debian's linux-source-6.12 "
            "(make deps does), or set KSRC=/path/to/linux")
    identity = _tarball_identity(tarball)
    marker = cache / "identity"
    if marker.is_file() and marker.read_text() == identity:
        tops = [p for p in cache.iterdir() if p.is_dir()]
        if len(tops) == 1:
            return Base(path=tops[0], identity=identity)
    say(f"unpacking {tarball} (once; about 15 s)")
    if cache.exists():
        shutil.rmtree(cache)
    tmp = cache.with_name(cache.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    run_tool(["tar", "-xf", str(tarball), "-C", str(tmp)], f"unpacking {tarball}")
    tops = [p for p in tmp.iterdir() if p.is_dir()]
    if len(tops) != 1:
        raise AssemblyError(f"{tarball}: expected one top directory, found {len(tops)}")
    tmp.rename(cache)
    marker.write_text(identity)
    return Base(path=cache / tops[0].name, identity=identity)


def _copy_base(base: Base, tree: Path) -> None:
    say(f"copying base {base.path} to {tree}")
    tree.mkdir(parents=True, exist_ok=True)
    run_tool(["rsync", "-a", "--delete", "--exclude=/.git", f"{base.path}/", f"{tree}/"],
             f"copying the base {base.path} to {tree}")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _apply_patch(entry: SeriesEntry, staging: Path, base: Base) -> None:
    rej = staging.parent / f"{entry.name}.rej"
    rej.unlink(missing_ok=True)
    try:
        proc = subprocess.run(
            ["patch", "-p1", "--batch", "--forward", "--fuzz=0", "--no-backup-if-mismatch",
             "-r", str(rej), "-d", str(staging), "-i", str(entry.patch)],
            capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise missing("patch") from exc
    if proc.returncode == 0:
        return
    detail = proc.stdout + proc.stderr
    if rej.is_file():
        detail += f"\nrejected hunks ({rej}):\n{rej.read_text(errors='replace')}"
    raise AssemblyError(
        f"patch {entry.name} does not apply to {base.path}:\n{detail.rstrip()}\n"
        f"Fix or refresh kernel-patches/{entry.name} against the base.")


def _stage(layout: Layout, base: Base, entries: list[SeriesEntry], staging: Path) -> set[str]:
    """Apply the series to copies of the files it touches; return their paths."""
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    touched: set[str] = set()
    for entry in entries:
        for rel in entry.touched_files():
            touched.add(rel)
            src, dst = base.path / rel, staging / rel
            if src.is_file() and not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
    for entry in entries:
        # a patch may consist of its new files only (no diff to apply)
        if entry.touched_files():
            _apply_patch(entry, staging, base)
        for rel in entry.new_files:
            src = layout.repo / rel
            if not src.is_file():
                raise AssemblyError(f"{entry.name}: new file {rel} is listed in the series "
                                    f"but missing from the repository ({src})")
            if (base.path / rel).exists():
                raise AssemblyError(f"{entry.name}: new file {rel} already exists in the base "
                                    f"tree {base.path}: change it with a patch instead")
            dst = staging / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
            touched.add(rel)
    return touched


def _state_file(layout: Layout) -> Path:
    return layout.tree.parent / "assembly.json"


def assemble(layout: Layout, upto: int | None = None, base: Base | None = None) -> AssemblyResult:
    """Make layout.tree equal to base + the first ``upto`` patches (all by default)."""
    entries = parse_series(layout.series_file)
    if upto is not None:
        entries = entries[:upto]
    base = base or prepare_base(layout)
    tree = layout.tree
    state_path = _state_file(layout)
    state: dict = {}
    if state_path.is_file():
        state = json.loads(state_path.read_text())
    if not (tree / "Makefile").is_file() or state.get("base") != base.identity:
        state = {}
        _copy_base(base, tree)
    staging = layout.tree.parent / "staging"
    touched = _stage(layout, base, entries, staging / "tree")
    result = AssemblyResult(tree=tree, base=base, applied=[e.name for e in entries])
    for rel in sorted(touched | set(state.get("touched", []))):
        want = staging / "tree" / rel
        if not want.is_file():
            want = base.path / rel
        dst = tree / rel
        if not want.is_file():
            if dst.exists():
                dst.unlink()
                result.rewritten.append(rel)
            continue
        if dst.is_file() and _digest(dst) == _digest(want):
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(dst.name + ".harness-tmp")
        shutil.copyfile(want, tmp)
        os.chmod(tmp, want.stat().st_mode & 0o777)
        tmp.replace(dst)
        result.rewritten.append(rel)
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text(json.dumps({"base": base.identity, "touched": sorted(touched)},
                                     indent=1))
    return result

