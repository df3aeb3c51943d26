# SPDX-License-Identifier: GPL-2.0
"""drgn script: every drgn helper check of this area in one drgn run, KTAP.

Loading the vmlinux DWARF is the slow part of a drgn run under TCG (minutes),
so run.sh starts drgn first and sets up every scenario while drgn loads;
this script indexes the debug info, waits for READY (KEY=VALUE lines: the
environment of the check modules, written by run.sh once everything is set
up), then runs the checks.  Each check module has ``plan()`` (its number of
results, known once READY is there) and ``run(prog, results)``; a module
that raises fails its remaining results with the exception, and the others
still run.

Usage (run.sh): drgn -k -s VMLINUX --main-symbols -q checks.py KSRC READY MODULE...
"""

import importlib
import os
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# the helpers of this checkout (harness/drgn_helpers/), not those of the
# checkout the venv's editable install points to
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(sys.argv[1]) / "tools/testing/selftests/kselftest"))

import ksft  # noqa: E402  (from the kernel tree)

from results import Results  # noqa: E402

READY_POLL_S = 0.5


def wait_ready(path: Path) -> None:
    """Wait for run.sh's READY file and take its KEY=VALUE lines as environment
    (run.sh's own time limit bounds the wait)."""
    while not path.exists():
        time.sleep(READY_POLL_S)
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep:
            os.environ[key] = value


sys.stdout.reconfigure(line_buffering=True)  # results survive a time out
prog.type("struct request_queue")  # noqa: F821 (drgn's global)  index the DWARF now
wait_ready(Path(sys.argv[2]))
modules = [importlib.import_module(name) for name in sys.argv[3:]]
plans = [m.plan() for m in modules]

ksft.set_plan(sum(plans))  # after run.sh's KTAP header
for module, planned in zip(modules, plans, strict=True):
    results = Results(module.__name__)
    ksft.print_msg(f"{time.monotonic():.1f}: {module.__name__}")
    try:
        module.run(prog, results)  # noqa: F821 (drgn's script global)
    except Exception:
        for line in traceback.format_exc().splitlines():
            ksft.print_msg(line)
    if results.count != planned:
        ksft.print_msg(f"{module.__name__}: {results.count} results of {planned} planned")
    for i in range(results.count, planned):
        results.check(f"{module.__name__}: result {i + 1} (not reached)", False)
ksft.finished()
