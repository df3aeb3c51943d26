"""How fast this host runs guests, for scaling every guest time limit.

The guests run under TCG, whose speed follows the host's single-thread
speed, and the time limits of the areas and guests were set on a host that
runs the calibration loop below at about REFERENCE_RATE iterations a second
(CPython 3.11).  Hosts differ: on a 2-core AMD EPYC that ran it at 5.4 to
5.8 M/s (2026-12-02) the ublk area took 2.6 times as long as on the host
its limit was set on, and would have run out of it.  So, unless
HARNESS_TIMEOUT_SCALE says otherwise, every limit is scaled by
REFERENCE_RATE / rate, at least 1 and at most MAX_SCALE, the rate being the
slowest of a few short samples (the host at its most loaded while measured).
A limit catches a hang; it does not judge speed, which is the benchmarks'.
"""

from __future__ import annotations

import functools
import time

REFERENCE_RATE = 14.0e6
SAMPLES = 5
SAMPLE_ITERATIONS = 200_000
MAX_SCALE = 4.0


def loop_rate(iterations: int = SAMPLE_ITERATIONS) -> float:
    """Iterations a second of a fixed integer loop in this interpreter."""
    start = time.perf_counter()
    x = 0
    for i in range(iterations):
        x = (x * 31 + i) & 0xFFFFFFFF
    return iterations / max(time.perf_counter() - start, 1e-9)


def scale_for(rate: float) -> float:
    """The time-limit scale of a host that runs the loop at ``rate``."""
    if rate <= 0:
        return MAX_SCALE
    return min(MAX_SCALE, max(1.0, REFERENCE_RATE / rate))


@functools.cache
def measured() -> tuple[float, float]:
    """(the slowest sampled rate, its scale), measured once a process."""
    rate = min(loop_rate() for _ in range(SAMPLES))
    return rate, scale_for(rate)
