"""The benchmark kernel: its own build directories and config overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.kconfig import (ConfigError, fragment_files, merge_fragments, override,
                             profile_fragment_files, profile_requests)
from harness.layout import Layout
from tests.unit.test_kconfig import write


def test_profiles_share_the_tree_not_the_outputs(tmp_path: Path) -> None:
    test, bench = Layout(repo=tmp_path), Layout(repo=tmp_path, profile="bench")
    assert test.tree == bench.tree == tmp_path / "build/linux"
    assert test.kobj == tmp_path / "build/obj"
    assert test.tools == tmp_path / "build/tools"
    assert bench.kobj == tmp_path / "build/bench/obj"
    assert bench.bzimage == tmp_path / "build/bench/obj/arch/x86/boot/bzImage"
    assert bench.vmlinux_h == tmp_path / "build/bench/tools/include/vmlinux.h"
    assert bench.selftests_out == tmp_path / "build/bench/selftests"
    assert bench.ufq_tools == tmp_path / "build/bench/ufq_iosched"
    assert bench.logs == tmp_path / "build/bench/logs"
    assert test.with_profile("bench") == bench
    with pytest.raises(ValueError, match="unknown build profile"):
        Layout(profile="fast")


def test_profile_fragments_override_the_common_ones(tmp_path: Path) -> None:
    st = tmp_path / "selftests"
    write(st / "base/config", "CONFIG_LOCKDEP=y\nCONFIG_BTF=y\nCONFIG_NAME=\"test\"\n")
    write(st / "bench/config.bench", "# CONFIG_LOCKDEP is not set\nCONFIG_NAME=\"bench\"\n")
    assert fragment_files(st) == [st / "base/config"]  # the test kernel does not see it
    assert profile_fragment_files(st, "bench") == [st / "bench/config.bench"]
    test = profile_requests(st, "test")
    bench = profile_requests(st, "bench")
    assert {k: r.value for k, r in test.items()} == {
        "CONFIG_LOCKDEP": "y", "CONFIG_BTF": "y", "CONFIG_NAME": '"test"'}
    assert {k: r.value for k, r in bench.items()} == {
        "CONFIG_LOCKDEP": "n", "CONFIG_BTF": "y", "CONFIG_NAME": '"bench"'}
    assert bench["CONFIG_LOCKDEP"].source.endswith("bench/config.bench:1")
    assert override({}, bench) == bench


def test_profile_fragments_may_not_conflict_among_themselves(tmp_path: Path) -> None:
    st = tmp_path / "selftests"
    write(st / "a/config.bench", "CONFIG_X=y\n")
    write(st / "b/config.bench", "# CONFIG_X is not set\n")
    with pytest.raises(ConfigError, match="CONFIG_X"):
        profile_requests(st, "bench")


def test_the_bench_kernel_drops_the_debug_instrumentation_and_keeps_the_features() -> None:
    st = Layout().selftests_dir
    test = profile_requests(st, "test")
    bench = profile_requests(st, "bench")
    assert test == merge_fragments(fragment_files(st))
    off = {"CONFIG_PROVE_LOCKING", "CONFIG_LOCKDEP", "CONFIG_DEBUG_ATOMIC_SLEEP",
           "CONFIG_KFENCE", "CONFIG_DEBUG_OBJECTS", "CONFIG_DEBUG_LIST",
           "CONFIG_BUG_ON_DATA_CORRUPTION",
           # the test kernel's fault injection (selftests/ufq: requeue_inject)
           "CONFIG_FAULT_INJECTION", "CONFIG_FAULT_INJECTION_CONFIGFS",
           "CONFIG_BLK_DEV_NULL_BLK_FAULT_INJECTION"}
    for name in off:
        assert bench[name].value == "n", name
    assert test["CONFIG_FAULT_INJECTION"].value == "y"
    assert test["CONFIG_BLK_DEV_NULL_BLK_FAULT_INJECTION"].value == "y"
    changed = {k for k in test if test[k].value != bench[k].value}
    assert changed == off | {"CONFIG_LOCALVERSION"}
    assert bench["CONFIG_LOCALVERSION"].value == '"-ufq-bench"'
    # what the benchmarks and drgn need is there as in the test kernel
    for name in ("CONFIG_DEBUG_INFO", "CONFIG_DEBUG_INFO_BTF", "CONFIG_PROC_KCORE",
                 "CONFIG_KALLSYMS_ALL", "CONFIG_IOSCHED_UFQ", "CONFIG_IO_URING_BPF_OPS",
                 "CONFIG_IO_URING_BPF_EXT",
                 "CONFIG_BLK_DEV_NULL_BLK", "CONFIG_BPF_JIT", "CONFIG_BLK_DEBUG_FS"):
        assert bench[name].value == "y", name
