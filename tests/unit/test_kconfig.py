"""Config fragments: parsing, merging, conflicts, and checking a .config."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.kconfig import (ConfigError, fragment_files, fragment_text, merge_fragments,
                             parse_dotconfig, parse_fragment, unmet_requests,
                             defined_symbols, known_requests)
from harness.layout import Layout


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_parse_fragment_set_unset_and_strings(tmp_path: Path) -> None:
    frag = write(tmp_path / "a/config", '# comment\nCONFIG_A=y\n# CONFIG_B is not set\n'
                 'CONFIG_C="text"\nCONFIG_D=0x10\n')
    reqs = parse_fragment(frag)
    assert [(r.name, r.value) for r in reqs] == [
        ("CONFIG_A", "y"), ("CONFIG_B", "n"), ("CONFIG_C", '"text"'), ("CONFIG_D", "0x10")]
    assert reqs[0].source.endswith("a/config:2")


def test_parse_fragment_rejects_garbage(tmp_path: Path) -> None:
    frag = write(tmp_path / "a/config", "CONFIG_A=y\nA=y\n")
    with pytest.raises(ConfigError, match="config:2: not a config line"):
        parse_fragment(frag)


def test_merge_detects_conflicts(tmp_path: Path) -> None:
    a = write(tmp_path / "a/config", "CONFIG_X=y\n")
    b = write(tmp_path / "b/config", "# CONFIG_X is not set\n")
    with pytest.raises(ConfigError, match="CONFIG_X: .*a/config:1 asks y, .*b/config:1 asks n"):
        merge_fragments([a, b])


def test_merge_allows_agreeing_duplicates(tmp_path: Path) -> None:
    a = write(tmp_path / "a/config", "CONFIG_X=y\n")
    b = write(tmp_path / "b/config", "CONFIG_X=y\nCONFIG_Y=m\n")
    merged = merge_fragments([a, b])
    assert fragment_text(merged) == "CONFIG_X=y\nCONFIG_Y=m\n"


def test_unmet_requests_names_each_missing_option(tmp_path: Path) -> None:
    frag = write(tmp_path / "a/config",
                 "CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\n# CONFIG_GONE is not set\n"
                 'CONFIG_S="x"\n')
    dotconfig = write(tmp_path / ".config",
                      "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=y\nCONFIG_S=\"x\"\n")
    problems = unmet_requests(merge_fragments([frag]), parse_dotconfig(dotconfig))
    assert len(problems) == 2
    assert problems[0].startswith("CONFIG_B: asked y by ") and problems[0].endswith("got not set")
    assert problems[1].startswith("CONFIG_C: asked n by ") and problems[1].endswith("got y")


def test_repository_fragments_are_consistent() -> None:
    layout = Layout()
    files = fragment_files(layout.selftests_dir)
    assert layout.selftests_dir / "base/config" in files
    merged = merge_fragments(files)
    for needed in ("CONFIG_BPF_SYSCALL", "CONFIG_DEBUG_INFO_BTF", "CONFIG_PROVE_LOCKING",
                   "CONFIG_IO_URING", "CONFIG_BLK_DEV_UBLK", "CONFIG_LKDTM",
                   "CONFIG_BLK_DEV_NULL_BLK", "CONFIG_VIRTIO_BLK", "CONFIG_EXT4_FS",
                   "CONFIG_IOSCHED_BFQ", "CONFIG_MQ_IOSCHED_KYBER", "CONFIG_PROC_KCORE",
                   "CONFIG_KALLSYMS_ALL", "CONFIG_DEBUG_ATOMIC_SLEEP"):
        assert merged[needed].value == "y", needed
    assert merged["CONFIG_DRM"].value == "n"


def test_series_prefix_checks_only_options_the_tree_defines(tmp_path: Path) -> None:
    tree = tmp_path / "linux"
    write(tree / "block/Kconfig.iosched",
          "menu \"IO Schedulers\"\n\nconfig MQ_IOSCHED_DEADLINE\n\ttristate \"x\"\n"
          "menuconfig BLOCK\n\tbool \"y\"\n  config INDENTED\n\tbool\n"
          "\thelp\n\t  config NOT_A_DEFINITION here\n")
    write(tree / "io_uring/Makefile", "config IN_A_MAKEFILE\n")
    symbols = defined_symbols(tree)
    assert symbols == {"CONFIG_MQ_IOSCHED_DEADLINE", "CONFIG_BLOCK", "CONFIG_INDENTED"}
    frag = write(tmp_path / "a/config",
                 "CONFIG_MQ_IOSCHED_DEADLINE=y\nCONFIG_IOSCHED_UFQ=y\nCONFIG_BLOCK=y\n")
    known = known_requests(merge_fragments([frag]), symbols)
    assert sorted(known) == ["CONFIG_BLOCK", "CONFIG_MQ_IOSCHED_DEADLINE"]
