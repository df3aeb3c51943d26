"""Running the external tools the harness needs, with errors that say what
failed and what to do (never a bare traceback)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any


class ToolError(Exception):
    """An external tool is missing or failed; the message says which."""


def missing(tool: str) -> ToolError:
    return ToolError(f"{tool} not found: install it with `make deps` (the project's apt "
                     "packages) or `make venv` (its Python packages)")


def require(tool: str) -> str:
    """The path of ``tool`` on PATH, or a ToolError saying how to install it."""
    path = shutil.which(tool)
    if path is None:
        raise missing(tool)
    return path


def run_tool(cmd: list[str], what: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` (``what`` says what it does); its stderr goes into the
    error if it fails.  stdout is captured unless the caller redirects it."""
    kwargs.setdefault("stdout", subprocess.PIPE)
    try:
        proc = subprocess.run(cmd, stderr=subprocess.PIPE, text=True, errors="replace",
                              **kwargs)
    except FileNotFoundError as exc:
        raise missing(Path(cmd[0]).name) from exc
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or "").strip().splitlines()[-20:])
        raise ToolError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}"
                        + (f"\n{tail}" if tail else ""))
    return proc
