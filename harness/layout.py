"""Where the repository's inputs and the build's outputs live."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_TARBALL = Path("/usr/src/linux-source-6.12.tar.xz")
REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Layout:
    """Paths of one checkout of the project.

    ``repo`` holds the sources (kernel-patches/, new kernel files, selftests/);
    everything generated goes under ``repo/build`` and ``repo/out``.
    """

    repo: Path = REPO_ROOT

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
    def tree(self) -> Path:
        """The assembled kernel source tree (base + series + new files)."""
        return self.build_dir / "linux"

    @property
    def kobj(self) -> Path:
        """Kernel object directory (make O=)."""
        return self.build_dir / "obj"

    @property
    def tools(self) -> Path:
        """libbpf, bpftool and vmlinux.h built from the tree."""
        return self.build_dir / "tools"

    @property
    def ufq_tools(self) -> Path:
        """tools/ufq_iosched of the tree, built (OUTPUT=); loaders in bin/."""
        return self.build_dir / "ufq_iosched"

    @property
    def selftests_out(self) -> Path:
        return self.build_dir / "selftests"

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
