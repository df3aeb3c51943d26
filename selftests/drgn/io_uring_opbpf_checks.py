# SPDX-License-Identifier: GPL-2.0
"""The io_uring helper's IORING_OP_BPF view must agree with the application's.

run.sh starts selftests/iouring's iou_opbpf_report, which leaves a ring with
opbpf.bpf.c's operations in slots 0 and 3, nops.bpf.c's empty_ops as its
loop ops, and five requests in flight (a READ of an empty pipe with two BPF
operations linked behind it, a TIMEOUT with one), writes what it sees to
$IOU_OPBPF_REPORT and waits:

  pid PID
  ring fd=N setup_flags=0x... in_flight=5
  loop map=NAME map_id=ID loop_step=PROG
  op slot=S map=NAME map_id=ID in_flight=N prep_fn=PROG issue_fn=PROG ...
  request user_data=U slot=S behind=OPCODE

The slots, their maps and programs, the requests in flight per slot and the
BPF requests with what each waits behind must be what drgn reads from the
ring behind that fd of that pid; so must the loop ops.
"""

import contextlib
import io

from harness.drgn_helpers.io_uring import main as io_uring_main
from harness.drgn_helpers.io_uring import ring_of_fd, ring_state, waiting_requests

MEMBERS = ("prep_fn", "issue_fn", "fail_fn", "cleanup_fn")


def plan() -> int:
    return 6


def parse_report(text: str) -> dict:
    out: dict = {"ops": {}, "requests": {}}
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "pid":
            out["pid"] = int(rest)
            continue
        fields = dict(item.split("=", 1) for item in rest.split())
        if kind == "ring":
            out["ring"] = fields
        elif kind == "loop":
            out["loop"] = fields
        elif kind == "op":
            out["ops"][int(fields["slot"])] = fields
        elif kind == "request":
            out["requests"][int(fields["user_data"])] = fields
    return out


def run(prog, results) -> None:
    text = results.report("IOU_OPBPF_REPORT", "report from iou_opbpf_report")
    if text is None:
        return
    app = parse_report(text)
    pid, ring = app["pid"], app["ring"]
    ctx = ring_of_fd(prog, pid, int(ring["fd"]))
    state = ring_state(ctx)

    got_ops = {op.slot: {"map": op.struct_ops.map_name, "map_id": op.struct_ops.map_id,
                         "in_flight": op.in_flight, "id": op.id,
                         "ring_fd": op.ring_fd, "registered_in": op.priv,
                         "programs": op.struct_ops.programs}
               for op in state.bpf_ext_ops}
    want_ops = {slot: {"map": f["map"], "map_id": int(f["map_id"]),
                       "in_flight": int(f["in_flight"]), "id": slot,
                       "ring_fd": int(ring["fd"]), "registered_in": state.ctx,
                       "programs": {m: f[m] for m in MEMBERS}}
                for slot, f in app["ops"].items()}
    results.equal("io_uring opbpf: the slots, their maps, programs and requests in flight"
                  " equal the application's", got_ops, want_ops, truth="application")

    got_reqs = {r.user_data: {"slot": r.slot, "behind": r.behind,
                              "ops_in_its_slot": any(o.slot == r.slot and o.address == r.ops
                                                     for o in state.bpf_ext_ops)}
                for r in state.bpf_ext_requests}
    want_reqs = {ud: {"slot": int(f["slot"]), "behind": int(f["behind"]),
                      "ops_in_its_slot": True}
                 for ud, f in app["requests"].items()}
    results.equal("io_uring opbpf: the BPF operations waiting in links, and behind what",
                  got_reqs, want_reqs, truth="application")

    waiting = list(waiting_requests(ctx))
    results.check(f"io_uring opbpf: {ring['in_flight']} requests in flight, as the"
                  " application holds", len(waiting) == int(ring["in_flight"]),
                  f"drgn finds {len(waiting)}: "
                  + ", ".join(f"{r.cqe.user_data.value_()}/op {r.opcode.value_()}"
                              for r, _ in waiting))

    loop, ops = app["loop"], state.bpf_ops
    ok = (ops is not None and ops.installed_in == state.ctx and state.loop_step != 0
          and ops.struct_ops.map_name == loop["map"]
          and ops.struct_ops.map_id == int(loop["map_id"])
          and ops.struct_ops.programs == {"loop_step": loop["loop_step"]})
    results.check("io_uring opbpf: the same ring has the application's loop ops", ok,
                  f"drgn: {ops}", f"application: {loop}")

    results.check("io_uring opbpf: the ring's setup flags include BPF_EXT",
                  state.setup_flags == int(ring["setup_flags"], 0)
                  and "BPF_EXT" in state.setup_flag_names,
                  f"drgn {state.setup_flags:#x} {state.setup_flag_names},"
                  f" application {ring['setup_flags']}")

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        io_uring_main(prog, [str(pid), ring["fd"]])
    dump = out.getvalue().splitlines()
    slots = [line for line in dump if line.startswith("  bpf op slot ")]
    reqs = [line for line in dump if line.startswith("  bpf request ")]
    results.check("io_uring opbpf: the script dump shows every slot and BPF request",
                  len(slots) == len(app["ops"]) and len(reqs) == len(app["requests"])
                  and all(f"map {f['map_id']} '{f['map']}'" in " ".join(slots)
                          for f in app["ops"].values()), *dump)
