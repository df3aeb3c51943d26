"""Kernel config fragments: merge them, and check the result honours them.

Every ``selftests/<area>/config`` is a kselftest-style fragment.  They are
merged in path order over virtme-ng's minimal config; two fragments asking
different values for one option is an error.  After ``olddefconfig`` each
requested option must really have the requested value, otherwise the build
fails naming the options (usually a missing dependency).

A build profile other than the test kernel's adds its own fragments,
``selftests/<area>/config.<profile>`` (e.g. ``config.bench``): they are
merged the same way among themselves, then override the common fragments
option by option.  That is the only way two values for one option are
allowed, and the override is checked like any other request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_SET = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set$")
_DEFINITION = re.compile(r"^\s*(?:menu)?config\s+([A-Za-z0-9_]+)\s*$", re.MULTILINE)


class ConfigError(Exception):
    """A fragment is malformed, fragments conflict, or .config misses a request."""


@dataclass(frozen=True)
class ConfigRequest:
    name: str
    value: str  # "n" for "is not set"
    source: str  # file:line

    def line(self) -> str:
        if self.value == "n":
            return f"# {self.name} is not set"
        return f"{self.name}={self.value}"


def parse_fragment(path: Path) -> list[ConfigRequest]:
    requests: list[ConfigRequest] = []
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        where = f"{path}:{lineno}"
        m = _SET.match(line)
        if m:
            requests.append(ConfigRequest(m.group(1), m.group(2), where))
            continue
        m = _UNSET.match(line)
        if m:
            requests.append(ConfigRequest(m.group(1), "n", where))
            continue
        if line and not line.startswith("#"):
            raise ConfigError(f"{where}: not a config line: {raw!r}")
    return requests


def fragment_files(selftests_dir: Path) -> list[Path]:
    return sorted(selftests_dir.glob("*/config"))


def profile_fragment_files(selftests_dir: Path, profile: str) -> list[Path]:
    """The fragments of a build profile, ``selftests/*/config.<profile>``."""
    return sorted(selftests_dir.glob(f"*/config.{profile}"))


def profile_chain_fragment_files(selftests_dir: Path, profile: str) -> list[Path]:
    """The fragments of a profile and of the profiles it derives from."""
    from harness.layout import profile_chain

    return [f for p in profile_chain(profile) for f in profile_fragment_files(selftests_dir, p)]


def merge_fragments(paths: list[Path]) -> dict[str, ConfigRequest]:
    merged: dict[str, ConfigRequest] = {}
    for path in paths:
        for req in parse_fragment(path):
            prev = merged.get(req.name)
            if prev is not None and prev.value != req.value:
                raise ConfigError(f"{req.name}: {prev.source} asks {prev.value}, "
                                  f"{req.source} asks {req.value}")
            merged.setdefault(req.name, req)
    return merged


def override(merged: dict[str, ConfigRequest],
             overrides: dict[str, ConfigRequest]) -> dict[str, ConfigRequest]:
    """``merged`` with each option of ``overrides`` replaced (or added)."""
    out = dict(merged)
    out.update(overrides)
    return out


def profile_requests(selftests_dir: Path, profile: str) -> dict[str, ConfigRequest]:
    """Every request of a build profile: the common fragments, overridden by
    the profile's own (none for the test kernel); a derived profile's
    (layout.PROFILE_PARENTS) override its parent's."""
    from harness.layout import profile_chain

    merged = merge_fragments(fragment_files(selftests_dir))
    for name in profile_chain(profile):
        merged = override(merged, merge_fragments(profile_fragment_files(selftests_dir, name)))
    return merged


def fragment_text(merged: dict[str, ConfigRequest]) -> str:
    return "".join(f"{req.line()}\n" for req in merged.values())


def parse_dotconfig(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        m = _SET.match(raw)
        if m:
            values[m.group(1)] = m.group(2)
            continue
        m = _UNSET.match(raw)
        if m:
            values[m.group(1)] = "n"
    return values


def defined_symbols(tree: Path) -> set[str]:
    """Every ``CONFIG_`` symbol some Kconfig file of ``tree`` defines."""
    symbols: set[str] = set()
    for path in tree.rglob("Kconfig*"):
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        symbols.update("CONFIG_" + name for name in _DEFINITION.findall(text))
    return symbols


def known_requests(merged: dict[str, ConfigRequest],
                   symbols: set[str]) -> dict[str, ConfigRequest]:
    """The requests whose option exists in a tree defining ``symbols``.

    A bisect build of a series prefix lacks the Kconfig options that later
    patches introduce; the fragments still ask for them, and only those
    requests are dropped, every option the prefix knows is still checked.
    """
    return {name: req for name, req in merged.items() if name in symbols}


def unmet_requests(merged: dict[str, ConfigRequest], actual: dict[str, str]) -> list[str]:
    """One message per requested option whose value is not what was asked."""
    problems = []
    for req in merged.values():
        got = actual.get(req.name, "n")
        if got != req.value:
            shown = "not set" if got == "n" else got
            problems.append(f"{req.name}: asked {req.value} by {req.source}, got {shown}")
    return problems
