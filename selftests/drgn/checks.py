# SPDX-License-Identifier: GPL-2.0
"""drgn script: every drgn helper check of this area in one drgn run, KTAP.

Loading the vmlinux DWARF is the slow part of a drgn run under TCG, so
run.sh sets up every scenario first and this script checks them all.  Each
check module has ``plan()`` (its number of results, known up front) and
``run(prog, results)``; a module that raises fails its remaining results
with the exception, and the others still run.

Usage (run.sh): drgn -k -s VMLINUX --main-symbols -q checks.py KSRC MODULE...
"""

import importlib
import sys
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(sys.argv[1]) / "tools/testing/selftests/kselftest"))

import ksft  # noqa: E402  (from the kernel tree)

from results import Results  # noqa: E402

modules = [importlib.import_module(name) for name in sys.argv[2:]]
plans = [m.plan() for m in modules]

ksft.print_header()
ksft.set_plan(sum(plans))
for module, planned in zip(modules, plans, strict=True):
    results = Results(module.__name__)
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
