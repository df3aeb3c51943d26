# SPDX-License-Identifier: GPL-2.0
"""The UFQ helper must agree with the queue's debugfs files.

run.sh gives a slow null_blk (one driver tag, long completions) using ufq,
the selftest scheduler of selftests/ufq attached in "stall" mode (it takes
requests and never dispatches them, watchdog off) and a fio holding
writes at known sectors in it.  Environment:

  UFQ_DISK         the disk
  UFQ_LOADER_PID   the ufq_test loader; SIGTERM detaches the scheduler
  UFQ_HELD         "SECTOR+SECTORS ..." of the writes fio holds in the queue

Phase 1: the writes sit on the BPF list, nothing moves.  Phase 2: the
loader is stopped, the kernel takes the requests back into its FIFO and
dispatches them one by one (one driver tag, slow completions).  Phase 3:
idle.  debugfs is read before and after each drgn read, and a view counts
only when the two debugfs reads are equal, so that drgn and debugfs saw the
same state.
"""

import contextlib
import io
import os
import signal
import time
from dataclasses import asdict, fields

from drgn.helpers.linux.block import disk_name, for_each_disk

from harness.drgn_helpers.block import queue_elevator_name, sysfs_elevator
from harness.drgn_helpers.struct_ops import BPF_NAME_MAX
from harness.drgn_helpers.ufq import (
    UfqStats, parse_debugfs_requests, parse_key_values, ufq_data, ufq_queue_of_disk, ufq_scheduler)
from harness.drgn_helpers.ufq import main as ufq_main
from results import differences

SCHED_NAME = "ufq_test_fifo"
MAP_NAME = "fifo_ops"
OPS_MEMBERS = ("init_sched", "exit_sched", "insert_req", "dispatch_req", "has_req",
               "finish_req", "merge_req", "merge_bio", "requeue_req")
SNAPSHOT_TRIES = 400
IDLE_POLLS = 600
IDLE_POLL_S = 0.2
POLL_S = 0.05


def plan() -> int:
    return 10


def debugfs(disk: str) -> dict[str, str]:
    base = f"/sys/kernel/debug/block/{disk}/sched"
    view = {}
    for name in ("stats", "sched", "fifo", "bpf_queue"):
        with open(f"{base}/{name}") as fh:
            view[name] = fh.read()
    return view


def snapshot(prog, disk: str, accept=lambda view: True):
    """(debugfs view, UfqQueue, UfqScheduler) read while nothing changed,
    and accepted by ``accept``; None if no such view came."""
    for _ in range(SNAPSHOT_TRIES):
        before = debugfs(disk)
        queue = ufq_queue_of_disk(prog, disk)
        sched = ufq_scheduler(prog)
        if debugfs(disk) == before:
            verdict = accept(before)
            if verdict is None:
                return None
            if verdict:
                return before, queue, sched
        time.sleep(POLL_S)
    return None


def held_requests() -> set[tuple[int, int]]:
    held = set()
    for item in os.environ.get("UFQ_HELD", "").split():
        sector, _, count = item.partition("+")
        held.add((int(sector), int(count)))
    return held


def sched_view(sched, queue) -> dict[str, str]:
    """The helper's values in the format of debugfs sched/sched."""
    return {"name": sched.name, "state": sched.state,
            "queue_attached": str(int(queue.queue_attached)),
            "exit_kind": sched.exit_kind, "exit_reason": sched.exit_reason,
            "watchdog_timeout_ms": str(sched.watchdog_timeout_ms)}


def request_rows(requests) -> list[tuple[str, str, str]]:
    return [(r.op, str(r.tag), str(r.internal_tag)) for r in requests]


def debugfs_rows(text: str) -> list[tuple[str, str, str]]:
    return [(d.get("op", ""), d.get("tag", ""), d.get("internal_tag", ""))
            for d in parse_debugfs_requests(text)]


def check_requests(results, name: str, view: dict, queue, which: str, held,
                   attach_gen: int) -> None:
    """The requests of list ``which`` against debugfs and the held writes;
    BPF's carry the attach generation ``attach_gen``, the kernel's none."""
    requests = getattr(queue, which)
    rows, want_rows = request_rows(requests), debugfs_rows(view[which])
    why = [f"drgn {which}: {rows}", f"debugfs {which}: {want_rows}"]
    ok = rows == want_rows and len(requests) > 0
    state = "BPF" if which == "bpf_queue" else "FIFO"
    for rq in requests:
        if (rq.sector, rq.nr_sectors) not in held or rq.state != state or rq.op != "WRITE":
            ok = False
            why.append(f"request {rq}: not one of the held writes {sorted(held)} in state {state}")
        if which == "bpf_queue" and (rq.bpf_id is None or rq.bpf_id & 0xFFFF != rq.internal_tag):
            ok = False
            why.append(f"request {rq}: its BPF id does not name its scheduler tag")
        if which == "fifo" and rq.bpf_id is not None:
            ok = False
            why.append(f"request {rq}: a FIFO request with a BPF id")
        want_gen = attach_gen if which == "bpf_queue" else 0
        if rq.attach_gen != want_gen:
            ok = False
            why.append(f"request {rq}: attach generation {rq.attach_gen}, not {want_gen}")
    if which == "bpf_queue":
        ids = [rq.bpf_id for rq in requests]
        if len(set(ids)) != len(ids) or {(r.sector, r.nr_sectors) for r in requests} != held:
            ok = False
            why.append(f"ids {ids} not distinct or not every held write is on the BPF list")
    results.check(name, ok, *why)


def check_stats(results, name: str, view: dict, queue) -> UfqStats:
    want = UfqStats.from_debugfs(view["stats"])
    results.equal(name, queue.stats, want, truth="debugfs")
    return want


def check_sched(results, name: str, view: dict, sched, queue, ok: bool, *why: str) -> None:
    """The scheduler state against debugfs sched/sched, and ``ok``."""
    got, want = sched_view(sched, queue), parse_key_values(view["sched"])
    results.check(name, got == want and ok, f"drgn {got}", f"debugfs {want}", *why)


def held_phase(prog, results, disk: str, held) -> bool:
    """The stalling BPF scheduler holds the writes; False if no view came."""
    held_view = snapshot(prog, disk)
    if held_view is None:
        results.msg("no stable view with the requests held")
        return False
    view, queue, sched = held_view
    results.msg(f"{time.monotonic():.1f}: held view")
    check_sched(results, "ufq: attached scheduler state equals debugfs sched", view, sched, queue,
                sched.name == SCHED_NAME and sched.state == "enabled"
                and queue.ops_name == SCHED_NAME, f"queue ops name {queue.ops_name}")
    attached = sched.attached
    want_programs = {m: f"fifo_{m}"[:BPF_NAME_MAX] for m in OPS_MEMBERS}
    results.check("ufq: struct_ops map and programs of the attached scheduler",
                  attached is not None and attached.map_name == MAP_NAME
                  and attached.programs == want_programs and attached.state in ("INUSE", "READY"),
                  f"drgn {attached}", f"want map {MAP_NAME} programs {want_programs}")
    stats = check_stats(results, "ufq: counters equal debugfs, requests held by BPF", view, queue)
    results.msg(f"held: {asdict(stats)}")
    check_requests(results, "ufq: BPF-held requests equal debugfs bpf_queue",
                   view, queue, "bpf_queue", held, sched.attach_gen)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ufq_main(prog, [disk])
    dump = out.getvalue().splitlines()
    results.check("ufq: the script dump shows the scheduler and the held requests",
                  f"scheduler {SCHED_NAME}: state enabled, exit none, watchdog 0 ms, "
                  f"attach {sched.attach_gen}" in dump and sched.attach_gen > 0
                  and sum(line.startswith("  bpf_queue: ") for line in dump) == len(held)
                  and f"  queued_bpf {len(held)}" in dump, *dump)
    return True


def fifo_phase(prog, results, disk: str, loader_pid: int, held) -> bool:
    """Detach: the kernel FIFO gets the writes back and dispatches them one
    by one; False if it emptied before a view of it was read."""
    os.kill(loader_pid, signal.SIGTERM)
    for _ in range(SNAPSHOT_TRIES):
        if parse_key_values(debugfs(disk)["sched"]).get("state") == "disabled":
            break
        time.sleep(POLL_S)

    def fifo_busy(v):
        s = UfqStats.from_debugfs(v["stats"])
        if s.queued_fifo:
            return True
        return None if s.finished == s.dispatched else False

    results.msg(f"{time.monotonic():.1f}: detached")
    fifo_view = snapshot(prog, disk, fifo_busy)
    if fifo_view is None:
        results.msg("the kernel FIFO emptied before a stable view of it was read")
        return False
    view, queue, sched = fifo_view
    results.msg(f"{time.monotonic():.1f}: FIFO view")
    check_sched(results, "ufq: detached scheduler state equals debugfs sched", view, sched, queue,
                sched.state == "disabled" and sched.exit_kind == "unregistered"
                and sched.attached is None and not queue.queue_attached
                and queue.ops_name is None, f"attached {sched.attached}")
    check_stats(results, "ufq: counters equal debugfs, requests in the kernel FIFO", view, queue)
    check_requests(results, "ufq: FIFO requests equal debugfs fifo", view, queue, "fifo", held,
                   sched.attach_gen)
    return True


def idle_phase(prog, results, disk: str, held) -> None:
    """Every write done: the counters account for every request."""
    def idle(v):
        s = UfqStats.from_debugfs(v["stats"])
        return not s.queued_fifo and not s.queued_bpf and s.finished == s.dispatched

    for _ in range(IDLE_POLLS):
        if idle(debugfs(disk)):
            break
        time.sleep(IDLE_POLL_S)
    idle_view = snapshot(prog, disk, idle)
    if idle_view is None:
        results.msg(f"{disk} did not become idle in {IDLE_POLLS * IDLE_POLL_S:.0f} s:")
        for name, text in debugfs(disk).items():
            results.msg(f"sched/{name}:\n{text}")
        hctx = f"/sys/kernel/debug/block/{disk}/hctx0"
        for name in ("dispatch", "busy", "state", "tags"):
            with open(f"{hctx}/{name}") as fh:
                results.msg(f"hctx0/{name}:\n{fh.read()}")
        return
    view, queue, sched = idle_view
    results.msg(f"{time.monotonic():.1f}: idle view")
    s = UfqStats.from_debugfs(view["stats"])
    # run.sh ran the scheduler on sequential writes first: no counter is 0
    # but insert_errors and requeued (nothing requeues here), so that
    # equality means something
    zero = [f.name for f in fields(s) if not getattr(s, f.name)]
    results.check("ufq: counters equal debugfs once idle, every request accounted",
                  queue.stats == s and s.inserted == s.dispatched + s.merged_requests
                  and s.inserted >= len(held) and not queue.fifo and not queue.bpf_queue
                  and set(zero) == {"insert_errors", "requeued", "queued_fifo", "queued_bpf"},
                  *differences(queue.stats, s, "drgn", "debugfs"), f"debugfs {asdict(s)}")


def run(prog, results) -> None:
    disk = os.environ.get("UFQ_DISK", "")
    pid = int(os.environ.get("UFQ_LOADER_PID", "0"))
    held = held_requests()
    if not disk or not pid or not held:
        results.msg(f"setup incomplete: UFQ_DISK={disk!r} UFQ_LOADER_PID={pid} UFQ_HELD={held}")
        return

    queue = ufq_queue_of_disk(prog, disk)
    gendisk = next(d for d in for_each_disk(prog) if disk_name(d).decode() == disk)
    elevator = queue_elevator_name(gendisk.queue)
    results.check(f"ufq: {disk} uses ufq (drgn and sysfs)",
                  ufq_data(gendisk.queue) is not None and elevator == "ufq"
                  and sysfs_elevator(disk) == "ufq" and queue.disk == disk,
                  f"drgn elevator {elevator}, sysfs {sysfs_elevator(disk)}")
    if held_phase(prog, results, disk, held) and fifo_phase(prog, results, disk, pid, held):
        idle_phase(prog, results, disk, held)
