"""liburing's own test suite, from Debian's source package, built on the host.

The ``liburing`` selftest area runs liburing's tests (``test/*.t``) in the
suite guest, which sees the host's root file system, so they are built here,
with the host's compiler, into the profile's selftest directory
(``build/selftests/liburing/src/test``).

The source is Debian bookworm's ``liburing`` source package, at the version
the list of tests that fail on the unpatched base was measured with
(``selftests/liburing/base-failures``).  ``make deps`` writes a ``deb-src``
entry for bookworm (:data:`SOURCES_FILE`) and fetches the package with
``apt-get source`` into :data:`CACHE`, once per machine; ``harness build``
fetches it too when the cache is empty, unpacks it and builds the tests.
Run as a script (``python3 -m harness.liburing fetch``) it only fetches,
which is what ``make deps`` calls, before the venv exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.layout import Layout
from harness.progress import say
from harness.tools import ToolError, missing

PACKAGE = "liburing"
VERSION = "2.3-3"  # Debian bookworm's; the base list was measured on it
UPSTREAM = VERSION.split("-")[0]
CACHE = Path.home() / ".cache/ufq-harness/liburing"
SOURCES_FILE = Path("/etc/apt/sources.list.d/ufq-harness-deb-src.sources")
SOURCES_ENTRY = """\
# Written by the ufq-harness (make deps): Debian's source packages, for
# liburing's test suite (harness/liburing.py).
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""
STAMP = ".harness-unpacked"


class LiburingError(ToolError):
    """liburing's sources could not be fetched, unpacked or built."""


def dsc_name(version: str = VERSION) -> str:
    return f"{PACKAGE}_{version}.dsc"


def dsc_files(dsc: Path) -> list[str]:
    """The files a .dsc lists (its Files: section), the .dsc excluded."""
    names: list[str] = []
    in_files = False
    for line in dsc.read_text(errors="replace").splitlines():
        if line.startswith("-----BEGIN PGP SIGNATURE"):
            break
        if not line.startswith(" "):
            in_files = line.rstrip() == "Files:"
            continue
        if in_files:
            fields = line.split()
            if len(fields) == 3:
                names.append(fields[2])
    return names


def cached(cache: Path = CACHE, version: str = VERSION) -> Path | None:
    """The cached .dsc if it and every file it lists are there."""
    dsc = cache / dsc_name(version)
    if not dsc.is_file():
        return None
    names = dsc_files(dsc)
    if not names or not all((cache / n).is_file() for n in names):
        return None
    return dsc


def fetch(cache: Path = CACHE, version: str = VERSION) -> Path:
    """The package's .dsc in ``cache``, downloaded with ``apt-get source``
    unless it already is there; a LiburingError says what is missing."""
    dsc = cached(cache, version)
    if dsc is not None:
        return dsc
    if shutil.which("apt-get") is None:
        raise LiburingError(f"apt-get not found: liburing's tests come from Debian's "
                            f"{PACKAGE} {version} source package (a Debian 12 host)")
    cache.mkdir(parents=True, exist_ok=True)
    say(f"fetching Debian's {PACKAGE} {version} source package into {cache}")
    with tempfile.TemporaryDirectory(dir=cache, prefix=".fetch-") as tmp:
        proc = subprocess.run(["apt-get", "source", "--download-only", "-q",
                               f"{PACKAGE}={version}"], cwd=tmp, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              errors="replace")
        got = Path(tmp) / dsc_name(version)
        if proc.returncode != 0 or not got.is_file():
            hint = (f"{SOURCES_FILE} is missing: run `make deps` (it writes that deb-src "
                    "entry for bookworm and runs apt-get update)"
                    if not SOURCES_FILE.is_file() else
                    f"{SOURCES_FILE} is there: run `apt-get update` (as root), and check "
                    f"that bookworm still has {PACKAGE} {version}")
            tail = "\n".join(proc.stdout.strip().splitlines()[-10:])
            raise LiburingError(f"`apt-get source --download-only {PACKAGE}={version}` "
                                f"failed (exit {proc.returncode}): {hint}\n{tail}")
        for name in [dsc_name(version)] + dsc_files(got):
            if not (Path(tmp) / name).is_file():
                raise LiburingError(f"apt-get source did not download {name} "
                                    f"(listed in {dsc_name(version)})")
            os.replace(Path(tmp) / name, cache / name)
    dsc = cached(cache, version)
    assert dsc is not None
    return dsc


def area_dir(layout: Layout) -> Path:
    """Where the area's binaries go: <selftests_out>/liburing."""
    return layout.selftests_out / "liburing"


def source_dir(layout: Layout) -> Path:
    """The unpacked source tree; the tests are built in its test/."""
    return area_dir(layout) / "src"


def unpack(dsc: Path, dest: Path, version: str = VERSION) -> Path:
    """``dpkg-source -x`` (Debian's patches applied) into ``dest``, unless a
    complete unpack of the same version is already there."""
    stamp = dest / STAMP
    if stamp.is_file() and stamp.read_text().strip() == version:
        return dest
    if shutil.which("dpkg-source") is None:
        raise missing("dpkg-source (package dpkg-dev)")
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(["dpkg-source", "-x", str(dsc), str(dest)], text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, errors="replace")
    if proc.returncode != 0 or not (dest / "test/Makefile").is_file():
        raise LiburingError(f"dpkg-source -x {dsc} {dest} failed (exit {proc.returncode}):\n"
                            + "\n".join(proc.stdout.strip().splitlines()[-10:]))
    stamp.write_text(version + "\n")
    return dest


def test_names(src: Path) -> list[str]:
    """The tests liburing's test/Makefile builds and its `make runtests` runs:
    every source of ``test_srcs`` as ``NAME.t``, sorted."""
    names: list[str] = []
    in_list = False
    for line in (src / "test/Makefile").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("test_srcs :="):
            in_list = True
            continue
        if in_list:
            if not stripped.endswith("\\"):
                break
            word = stripped.rstrip("\\").strip()
            for ext in (".cc", ".c"):
                if word.endswith(ext):
                    names.append(word[: -len(ext)] + ".t")
    for extra, var in (("statx.t", "statx.c"), ("sq-full-cpp.t", "sq-full-cpp.cc")):
        if extra not in names and var in (src / "test/Makefile").read_text():
            names.append(extra)
    return sorted(set(names))


def build(layout: Layout, cache: Path = CACHE) -> Path:
    """Fetch (if needed), unpack and build liburing and its tests; returns
    the test directory.  make rebuilds only what is stale."""
    from harness.kbuild import build_env, jobs, run_logged

    src = unpack(fetch(cache), source_dir(layout))
    env = build_env(layout)
    if not (src / "config-host.mak").is_file():
        run_logged(["./configure"], layout.logs / "liburing-configure.log",
                   "liburing configure", env, cwd=src)
    for sub in ("src", "test"):
        run_logged(["make", "-C", sub, f"-j{jobs()}"], layout.logs / f"liburing-{sub}.log",
                   f"liburing {sub}", env, cwd=src)
    names = test_names(src)
    absent = [n for n in names if not (src / "test" / n).is_file()]
    if absent:
        raise LiburingError(f"liburing's build did not produce {len(absent)} test(s): "
                            f"{', '.join(absent[:10])} (log: {layout.logs}/liburing-test.log)")
    (area_dir(layout) / "tests").write_text("".join(f"{n}\n" for n in names))
    return src / "test"


def main(argv: list[str]) -> int:
    if argv != ["fetch"]:
        print("usage: python3 -m harness.liburing fetch", file=sys.stderr)
        return 2
    try:
        dsc = fetch()
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    say(f"liburing sources: {dsc}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
