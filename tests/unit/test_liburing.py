"""liburing's test suite: fetching and building it (harness/liburing.py), the
unpatched profile it is measured on, and selftests/liburing/run.sh's verdicts
(retry once, the base list, timeouts, skips) on fake test programs."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import time
from pathlib import Path

import pytest

from harness import ktap, liburing
from harness.layout import Layout
from harness.suite import AreaResult, area_verdict

REPO = Path(__file__).resolve().parents[2]
RUN_SH = REPO / "selftests/liburing/liburing.sh"
BASE_LIST = REPO / "selftests/liburing/base-failures"

DSC = """\
-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA256

Format: 3.0 (quilt)
Source: liburing
Version: 2.3-3
Checksums-Sha256:
 aaaa 263699 liburing_2.3.orig.tar.gz
Files:
 0d4c 263699 liburing_2.3.orig.tar.gz
 1e5f 858 liburing_2.3.orig.tar.gz.asc
 2a6b 14992 liburing_2.3-3.debian.tar.xz

-----BEGIN PGP SIGNATURE-----
 not a file line
-----END PGP SIGNATURE-----
"""
FILES = ["liburing_2.3.orig.tar.gz", "liburing_2.3.orig.tar.gz.asc",
         "liburing_2.3-3.debian.tar.xz"]


def _script(path: Path, text: str) -> Path:
    path.write_text("#!/bin/bash\n" + text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_dsc_files_lists_the_files_section_only(tmp_path: Path) -> None:
    (tmp_path / "x.dsc").write_text(DSC)
    assert liburing.dsc_files(tmp_path / "x.dsc") == FILES


def test_cached_needs_every_file_of_the_dsc(tmp_path: Path) -> None:
    assert liburing.cached(tmp_path) is None
    (tmp_path / liburing.dsc_name()).write_text(DSC)
    for name in FILES[:-1]:
        (tmp_path / name).write_text("x")
    assert liburing.cached(tmp_path) is None
    (tmp_path / FILES[-1]).write_text("x")
    assert liburing.cached(tmp_path) == tmp_path / liburing.dsc_name()


def _fake_apt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _script(bindir / "apt-get", body)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    return bindir


def test_fetch_downloads_once_into_the_cache(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    calls = tmp_path / "calls"
    (tmp_path / "dsc").write_text(DSC)
    _fake_apt(tmp_path, monkeypatch,
              f'echo "$@" >> {calls}\ncp {tmp_path / "dsc"} liburing_2.3-3.dsc\n'
              + "".join(f"echo x > {n}\n" for n in FILES))
    cache = tmp_path / "cache"
    assert liburing.fetch(cache) == cache / "liburing_2.3-3.dsc"
    assert calls.read_text() == "source --download-only -q liburing=2.3-3\n"
    assert sorted(p.name for p in cache.iterdir()) == sorted(FILES + ["liburing_2.3-3.dsc"])
    liburing.fetch(cache)
    assert len(calls.read_text().splitlines()) == 1


def test_fetch_failure_says_what_is_missing(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_apt(tmp_path, monkeypatch,
              'echo "E: You must put some \'deb-src\' URIs in your sources.list"\nexit 100\n')
    monkeypatch.setattr(liburing, "SOURCES_FILE", tmp_path / "none.sources")
    with pytest.raises(liburing.LiburingError) as err:
        liburing.fetch(tmp_path / "cache")
    msg = str(err.value)
    assert "liburing=2.3-3" in msg and "exit 100" in msg
    assert "none.sources is missing: run `make deps`" in msg
    assert "deb-src" in msg
    assert not [p for p in (tmp_path / "cache").iterdir()]  # no half download left


def test_sources_entry_is_bookworm_deb_src() -> None:
    lines = liburing.SOURCES_ENTRY.splitlines()
    assert "Types: deb-src" in lines and "Suites: bookworm" in lines
    assert str(liburing.SOURCES_FILE).startswith("/etc/apt/sources.list.d/")
    assert liburing.SOURCES_FILE.suffix == ".sources"


def test_makefile_writes_the_entry_and_fetches() -> None:
    text = (REPO / "Makefile").read_text()
    assert str(liburing.SOURCES_FILE) in text
    assert "-m harness.liburing fetch" in text
    assert "dpkg-dev" in text  # dpkg-source


def test_test_names_from_liburings_makefile(tmp_path: Path) -> None:
    (tmp_path / "test").mkdir()
    (tmp_path / "test/Makefile").write_text(
        "# Please keep this list sorted alphabetically.\n"
        "test_srcs := \\\n\t232c93d07b74.c \\\n\taccept.c \\\n\tsq-full-cpp.cc \\\n"
        "\t# EOL\n\nifdef CONFIG_HAVE_STATX\n\ttest_srcs += statx.c\nendif\n"
        "all_targets += statx.t\n")
    assert liburing.test_names(tmp_path) == ["232c93d07b74.t", "accept.t",
                                             "sq-full-cpp.t", "statx.t"]


def test_unpatched_profile_has_its_own_tree_and_no_series(tmp_path: Path) -> None:
    test = Layout(repo=tmp_path)
    base = Layout(repo=tmp_path, profile="unpatched")
    assert test.series_upto is None and test.tree == tmp_path / "build/linux"
    assert base.series_upto == 0
    # beside its objects, as build/linux is beside build/obj: ccache's
    # relative paths match
    assert base.tree == tmp_path / "build/unpatched/linux"
    assert base.kobj == tmp_path / "build/unpatched/obj"
    assert os.path.relpath(base.tree, base.kobj) == os.path.relpath(test.tree, test.kobj)
    assert liburing.area_dir(base) == tmp_path / "build/unpatched/selftests/liburing"
    assert Layout(repo=tmp_path, profile="bench").tree == test.tree


def test_base_list_entries_have_a_reason() -> None:
    for line in BASE_LIST.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        assert name.endswith(".t"), line
        if reason.startswith("limit="):
            limit, _, reason = reason.partition(" ")
            # a time limit is for a test that runs until its SIGINT on the base
            assert 30 <= int(limit.removeprefix("limit=")) < 90, line
            assert "SIGINT" in reason, line
        assert reason.strip(), f"{name}: no reason given"


# run.sh on fake tests ------------------------------------------------------

FAKE_TESTS = {
    "pass.t": "exit 0\n",
    # fails the first time only (a timing-sensitive test under TCG)
    "flaky.t": 'if [ -e ../../flaky.once ]; then exit 0; fi\n: > ../../flaky.once\n'
               'echo "flaky: bad cqe res -62"; exit 1\n',
    "broken.t": 'echo "broken: got -22, wanted 0"; exit 1\n',
    "listed.t": 'echo "listed: fails on the base too"; exit 1\n',
    "fixed.t": "exit 0\n",  # listed, but passes
    "skips.t": 'echo "Skipping, no feature"; exit 77\n',
    "hangs.t": "sleep 30\n",
    # runs until interrupted, as a4c0b3decb33.t: exits 0 on SIGINT
    "until-int.t": "trap 'exit 0' INT\nwhile :; do sleep 0.1; done\n",
    "ignores-int.t": "trap '' INT\nsleep 70\n",
    "cwd.t": '[ -w . ] && [ -x ./exec-target.t ] && [ "$(ls -A | wc -l)" = 1 ] && : > left\n',
    "cwd2.t": '[ ! -e left ]\n',  # runs after cwd.t: what it left was removed
    "exec-target.t": "exit 0\n",
}


def _area(tmp_path: Path, tests: dict[str, str], listed: str) -> tuple[Path, Path]:
    out = tmp_path / "out"
    tdir = out / "src/test"
    tdir.mkdir(parents=True)
    for name, body in tests.items():
        _script(tdir / name, body)
    (out / "tests").write_text("".join(f"{n}\n" for n in sorted(tests)))
    base = tmp_path / "base-failures"
    base.write_text("# comment\n\n" + listed)
    return out, base


def _run(tmp_path: Path, out: Path, base: Path, **env: str) -> tuple[int, str]:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    full = dict(os.environ, OUTPUT=str(out), LIBURING_BASE_LIST=str(base),
                LIBURING_WORK=str(work), LIBURING_TIMEOUT="1", LIBURING_KILL_AFTER="1",
                HARNESS_STRICT="1")
    if os.geteuid() != 0:  # lanes in their own network namespace need root
        full["LIBURING_NETNS"] = "0"
    full.update(env)
    proc = subprocess.run(["bash", str(RUN_SH)], env=full, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=120, cwd=tmp_path)
    return proc.returncode, proc.stdout


def _results(text: str) -> dict[str, ktap.KtapResult]:
    report = ktap.parse(text)
    assert not report.problems, report.problems
    return {r.name: r for r in report.results}


def test_run_sh_verdicts(tmp_path: Path) -> None:
    out, base = _area(tmp_path, FAKE_TESTS,
                      "listed.t fails on 6.12: -EINVAL\nfixed.t failed on the base\n")
    rc, text = _run(tmp_path, out, base)
    res = _results(text)
    assert rc == 1
    assert all(res[n].passed for n in ("pass.t", "cwd.t", "cwd2.t", "exec-target.t"))
    # a failure that passes on the retry passes, and says so
    assert res["flaky.t"].passed and not res["flaky.t"].directive
    assert "flaky.t: failed once (exit status 1), passed on the retry" in text
    assert "flaky: bad cqe res -62" in text
    # failing twice fails, with the test's output
    assert res["broken.t"].failed
    assert "broken: got -22, wanted 0" in "\n".join(res["broken.t"].diagnostics)
    assert "broken.t: exit status 1 twice (first: exit status 1)" in text
    # a listed failure is expected, with the list's reason
    assert res["listed.t"].directive == "XFAIL" and res["listed.t"].passed
    assert res["listed.t"].reason == "base: fails on 6.12: -EINVAL"
    assert res["fixed.t"].passed
    assert "fixed.t passes, but base-failures lists it" in text
    # a skip is reported as one (the strict verdict fails it), not retried
    assert res["skips.t"].skipped and "Skipping, no feature" in res["skips.t"].reason
    assert "skips.t: skipped" not in text
    # a timeout is a failure (runtests.sh says "may not be a failure")
    assert res["hangs.t"].failed
    assert "hangs.t: timed out: ended by its SIGINT at 1s twice" in text
    assert res["until-int.t"].passed
    assert "until-int.t: ran until its SIGINT at 1s, then exited 0" in text
    assert res["ignores-int.t"].failed
    assert "ignores-int.t: timed out: killed 1s after its SIGINT at 1s twice" in text
    assert res["base-failures"].passed
    verdict = area_verdict(AreaResult("liburing", rc, ktap.parse(text), text))
    failing = {p.split(":")[0] for p in verdict.problems}
    assert failing == {"liburing", "liburing/broken.t", "liburing/skips.t",
                       "liburing/hangs.t", "liburing/ignores-int.t"}
    assert not list((tmp_path / "work").iterdir())  # the cwd is cleaned after each test


def test_run_sh_passes_when_only_listed_tests_fail(tmp_path: Path) -> None:
    tests = {k: FAKE_TESTS[k] for k in ("pass.t", "listed.t", "flaky.t", "exec-target.t")}
    out, base = _area(tmp_path, tests, "listed.t why\n")
    rc, text = _run(tmp_path, out, base)
    assert rc == 0, text
    verdict = area_verdict(AreaResult("liburing", rc, ktap.parse(text), text))
    assert verdict.outcome == "pass", verdict.problems


def test_run_sh_stale_base_list_entry_fails(tmp_path: Path) -> None:
    out, base = _area(tmp_path, {"pass.t": "exit 0\n", "exec-target.t": "exit 0\n"},
                      "gone.t removed from liburing\n")
    rc, text = _run(tmp_path, out, base)
    assert rc == 1
    assert _results(text)["base-failures"].failed
    assert "lists test(s) that are not run: gone.t" in text


def test_run_sh_missing_build_fails(tmp_path: Path) -> None:
    out, base = _area(tmp_path, {"pass.t": "exit 0\n", "exec-target.t": "exit 0\n"}, "")
    (out / "src/test/pass.t").unlink()
    rc, text = _run(tmp_path, out, base)
    assert rc == 1 and _results(text)["pass.t"].failed
    assert "pass.t is not built" in text
    (out / "tests").unlink()
    rc, text = _run(tmp_path, out, base)
    assert rc == 1 and "run `harness build`" in text
    assert ktap.parse(text).results[0].failed


def test_run_sh_timeout_follows_the_scale(tmp_path: Path) -> None:
    out, base = _area(tmp_path, {"hangs.t": "sleep 3\n", "exec-target.t": "exit 0\n"}, "")
    _, text = _run(tmp_path, out, base, LIBURING_TIMEOUT="",
                    HARNESS_TIMEOUT_SCALE="0.011")  # 90 s * 0.011 = 1 s
    assert "hangs.t: timed out: ended by its SIGINT at 1s" in text


def test_lanes_run_tests_at_once_and_print_in_order(tmp_path: Path) -> None:
    # The first test outlasts the second: two lanes take one each, and the
    # results still come in the list's order.
    out, base = _area(tmp_path, {"a-slow.t": "sleep 2\n", "b-fast.t": "exit 0\n",
                                 "exec-target.t": "exit 0\n"}, "")
    rc, text = _run(tmp_path, out, base, LIBURING_TIMEOUT="30", LIBURING_JOBS="2")
    assert rc == 0, text
    results = [line for line in text.splitlines() if line.startswith("ok ")]
    assert results == ["ok 1 a-slow.t", "ok 2 b-fast.t", "ok 3 exec-target.t",
                       "ok 4 base-failures"], text
    # whole seconds from two clock readings: a 2 s sleep shows as 2 or 3
    assert re.search(r"^# time a-slow\.t [23]s \(lane [12]\)$", text, re.M), text
    lanes = {line.rsplit("(lane ", 1)[1] for line in text.splitlines()
             if line.startswith("# time ")}
    assert lanes == {"1)", "2)"}, text


def test_a_listed_failure_runs_once(tmp_path: Path) -> None:
    out, base = _area(tmp_path, {"listed.t": "echo run >> ../runs; exit 1\n",
                                 "exec-target.t": "exit 0\n"},
                      "listed.t fails on the base too\n")
    rc, text = _run(tmp_path, out, base)
    assert rc == 0, text
    assert "not ok 2 listed.t # XFAIL base: fails on the base too" in text, text
    assert "running it again" not in text, text
    assert (tmp_path / "work/runs").read_text() == "run\n"


def test_a_listed_test_runs_for_its_own_limit(tmp_path: Path) -> None:
    # A test that only ends by its SIGINT on the base is run for the limit
    # its base-failures line gives (scaled), not for the area's timeout;
    # its XFAIL reason is the line's reason without the limit.
    out, base = _area(tmp_path, {"endless.t": "sleep 60\n", "pass.t": "exit 0\n",
                                 "exec-target.t": "exit 0\n"},
                      "endless.t limit=2 ended by its SIGINT on the base\n")
    start = time.monotonic()
    rc, text = _run(tmp_path, out, base, LIBURING_TIMEOUT="", HARNESS_TIMEOUT_SCALE="0.5")
    assert rc == 0, text
    assert time.monotonic() - start < 30, text  # the area's timeout would be 45 s
    assert "not ok 1 endless.t # XFAIL base: ended by its SIGINT on the base" in text, text
    assert "endless.t: timed out: ended by its SIGINT at 1s (its limit in base-failures)" in text
    assert "ok 3 pass.t" in text  # after exec-target.t
