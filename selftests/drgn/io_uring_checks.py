# SPDX-License-Identifier: GPL-2.0
"""The io_uring helper must agree with what the application sees.

run.sh starts selftests/iouring's iou_ring_report, which leaves a ring with
the BPF loop ops installed (and SQEs the loop did not take) and a ring whose
CQ overflowed, writes what it sees of them to $IOU_REPORT and waits:

  pid PID
  ring name=bpf fd=N setup_flags=0x... sq_head=... bpf_map=... bpf_map_id=... bpf_prog=...
  ring name=overflow fd=N ... overflow_pending=N

Every value the application reports must be what drgn reads from the ring
behind that fd of that pid.
"""

import contextlib
import io

from harness.drgn_helpers.io_uring import (
    for_each_ring, for_each_task_ring, ring_of_fd, ring_state)
from harness.drgn_helpers.io_uring import main as io_uring_main

RING_FIELDS = ("setup_flags", "sq_entries", "cq_entries", "sq_head", "sq_tail", "cq_head",
               "cq_tail", "sq_flags", "cq_overflow", "overflow_pending")
RINGS = ("bpf", "overflow")


def plan() -> int:
    return 4 + len(RINGS)


def parse_report(text: str) -> tuple[int, dict[str, dict[str, str]]]:
    pid = 0
    rings: dict[str, dict[str, str]] = {}
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "pid":
            pid = int(rest)
        elif kind == "ring":
            fields = dict(item.split("=", 1) for item in rest.split())
            rings[fields["name"]] = fields
    return pid, rings


def app_view(fields: dict[str, str]) -> dict[str, int]:
    return {name: int(fields[name], 0) for name in RING_FIELDS}


def drgn_view(state) -> dict[str, int]:
    return {name: getattr(state, name) for name in RING_FIELDS}


def run(prog, results) -> None:
    text = results.report("IOU_REPORT", "report from iou_ring_report")
    if text is None:
        return
    pid, rings = parse_report(text)

    from drgn.helpers.linux.pid import find_task

    fds = {int(r["fd"]) for r in rings.values()}
    found = {fd: ctx.value_() for fd, ctx in for_each_task_ring(find_task(prog, pid))}
    everywhere = {(p, fd) for p, fd, _ in for_each_ring(prog)}
    results.check(f"io_uring: the rings of pid {pid} are fds {sorted(fds)}",
                  set(found) == fds and {(pid, fd) for fd in fds} <= everywhere,
                  f"drgn finds fds {sorted(found)} in pid {pid}",
                  f"for_each_ring: {sorted(everywhere)}")

    states = {}
    for name in RINGS:
        fields = rings.get(name)
        if fields is None:
            results.check(f"io_uring: {name} ring state equals the application's", False,
                          f"no {name} ring in the report")
            continue
        ctx = ring_of_fd(prog, pid, int(fields["fd"]))
        state = states[name] = ring_state(ctx)
        results.equal(f"io_uring: {name} ring state equals the application's",
                      drgn_view(state), app_view(fields), truth="application")

    bpf, ovf = states.get("bpf"), states.get("overflow")
    bpf_fields = fields = rings.get("bpf", {})
    ops = bpf.bpf_ops if bpf else None
    want_programs = {"loop_step": fields.get("bpf_prog")}
    ok = (ops is not None and ops.ring_fd == int(fields["fd"]) and ops.installed_in == bpf.ctx
          and ops.struct_ops.map_name == fields.get("bpf_map")
          and ops.struct_ops.map_id == int(fields.get("bpf_map_id", "-1"))
          and ops.struct_ops.programs == want_programs and bpf.loop_step != 0
          and "DEFER_TASKRUN" in bpf.setup_flag_names and bpf.submitter_pid == pid)
    results.check("io_uring: bpf ring has the application's struct_ops installed", ok,
                  f"drgn: {ops}", f"ring: {bpf}",
                  f"application: map {fields.get('bpf_map')} id {fields.get('bpf_map_id')}"
                  f" programs {want_programs} fd {fields.get('fd')}")

    ok = (ovf is not None and ovf.bpf_ops is None and ovf.loop_step == 0
          and ovf.overflow_pending > 0 and ovf.overflow_flag
          and "CQ_OVERFLOW" in ovf.sq_flag_names and ovf.submitter_pid is None)
    results.check("io_uring: overflow ring has CQEs on its overflow list and no ops", ok,
                  f"drgn: {ovf}")

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        io_uring_main(prog, [str(pid)])
    dump = out.getvalue().splitlines()
    heads = [line for line in dump if line.startswith(f"pid {pid} fd ")]
    results.check("io_uring: the script dump shows both rings and the bpf ops",
                  len(heads) == len(RINGS) and sum(
                      f"map {bpf_fields.get('bpf_map_id')} '{bpf_fields.get('bpf_map')}'" in line
                      for line in dump) == 1, *dump)
