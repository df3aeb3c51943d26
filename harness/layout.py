"""Where the repository's inputs and the build's outputs live."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_TARBALL = Path("/usr/src/linux-source-6.12.tar.xz")
REPO_ROOT = Path(__file__).resolve().parent.parent
# Kernel build profiles: "test", the debug kernel the tests run on;
# "bench", the same series with a production-like config for benchmarks
# (selftests/*/config.bench override the fragments); "unpatched", the base
# without the series (``tree --upto 0``) and the test config minus the
# series' own options, for measuring what fails there (the liburing area).
# "bench-noext" is the benchmark kernel without CONFIG_IO_URING_BPF_EXT,
# for measuring what the option costs when built in but unused.
PROFILES = ("test", "bench", "unpatched", "bench-noext")
# Profiles built without the series: how many patches they apply.
SERIES_UPTO = {"unpatched": 0}
# A profile derived from another: that profile's fragments, then its own
# (selftests/*/config.<profile>) override them; its object directory starts
# as a copy of the parent's, so that make rebuilds only what its options
# change; only its kernel is built (the parent's programs run on it).
PROFILE_PARENTS = {"bench-noext": "bench"}


def profile_chain(profile: str) -> list[str]:
    """The profiles whose fragments a profile's config applies, in order:
    its ancestors' first ([] for the test kernel, which has none)."""
    if profile == "test":
        return []
    parent = PROFILE_PARENTS.get(profile)
    return (profile_chain(parent) if parent else []) + [profile]


@dataclass(frozen=True)
class Layout:
    """Paths of one checkout of the project.

    ``repo`` holds the sources (kernel-patches/, new kernel files, selftests/);
    everything generated goes under ``repo/build`` and ``repo/out``.

    ``profile`` selects the kernel build: the tree (build/linux) is shared by
    the profiles of the whole series, each profile has its own config,
    objects, tools and selftest binaries, under build/ for "test" and under
    build/<profile>/ for the others.  A profile of a series prefix
    ("unpatched") has its own tree too, build/<profile>/linux.
    """

    repo: Path = REPO_ROOT
    profile: str = "test"

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"unknown build profile {self.profile!r}; known: {PROFILES}")

    @property
    def parent(self) -> Layout | None:
        """The layout of the profile this one derives from (PROFILE_PARENTS)."""
        parent = PROFILE_PARENTS.get(self.profile)
        return self.with_profile(parent) if parent else None

    def with_profile(self, profile: str) -> Layout:
        """The same checkout, another build profile."""
        return dataclasses.replace(self, profile=profile)

    @property
    def patches_dir(self) -> Path:
        return self.repo / "kernel-patches"

    @property
    def series_file(self) -> Path:
        return self.patches_dir / "series"

    @property
    def selftests_dir(self) -> Path:
        return self.repo / "selftests"

    @property
    def build_dir(self) -> Path:
        return self.repo / "build"

    @property
    def base_cache(self) -> Path:
        """Where the base tarball is unpacked once, then only read."""
        return self.build_dir / "base"

    @property
    def series_upto(self) -> int | None:
        """How many patches of the series this profile's tree has (None: all)."""
        return SERIES_UPTO.get(self.profile)

    @property
    def tree(self) -> Path:
        """The assembled kernel source tree (base + series + new files).

        A series-prefix profile's tree sits beside its objects, as build/linux
        sits beside build/obj, so that ccache (paths relative to the object
        directory) hits for the files the series does not change."""
        if self.series_upto is not None:
            return self.profile_dir / "linux"
        return self.build_dir / "linux"

    @property
    def profile_dir(self) -> Path:
        """Where this profile's build outputs go."""
        return self.build_dir if self.profile == "test" else self.build_dir / self.profile

    @property
    def logs(self) -> Path:
        """Build logs of this profile."""
        return self.profile_dir / "logs"

    @property
    def kobj(self) -> Path:
        """Kernel object directory (make O=)."""
        return self.profile_dir / "obj"

    @property
    def tools(self) -> Path:
        """libbpf, bpftool and vmlinux.h built from the tree (vmlinux.h from this
        profile's kernel: BPF programs are built against the kernel they run on)."""
        return self.profile_dir / "tools"

    @property
    def ufq_tools(self) -> Path:
        """tools/ufq_iosched of the tree, built (OUTPUT=); loaders in bin/."""
        return self.profile_dir / "ufq_iosched"

    @property
    def selftests_out(self) -> Path:
        return self.profile_dir / "selftests"

    @property
    def out_dir(self) -> Path:
        return self.repo / "out"

    @property
    def bzimage(self) -> Path:
        return self.kobj / "arch/x86/boot/bzImage"

    @property
    def vmlinux(self) -> Path:
        return self.kobj / "vmlinux"

    @property
    def bpftool(self) -> Path:
        return self.tools / "sbin/bpftool"

    @property
    def vmlinux_h(self) -> Path:
        return self.tools / "include/vmlinux.h"

    @property
    def venv_python(self) -> Path:
        return self.repo / ".venv/bin/python"


def base_source() -> tuple[str, Path]:
    """The base the series applies to: ('ksrc', dir) or ('tarball', file).

    ``KSRC=/path/to/linux`` selects a user's own tree; otherwise Debian's
    linux-source-6.12 tarball (``BASE_TARBALL`` overrides its path).
    """
    ksrc = os.environ.get("KSRC")
    if ksrc:
        return "ksrc", Path(ksrc).resolve()
    return "tarball", Path(os.environ.get("BASE_TARBALL", DEFAULT_BASE_TARBALL))
