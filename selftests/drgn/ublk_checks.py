# SPDX-License-Identifier: GPL-2.0
"""The ublk helper must agree with what the ublk servers report.

selftests/ublk/drgn_setup.sh leaves three devices: one whose server holds
five requests of a fio (writes and reads at known sectors), one whose
recovery-enabled server was killed (QUIESCED) and one whose server was
killed (DEAD); and two for ublk-bpf (ublk_bpf_checks.py), which count here
as any other; ``ublk list -v`` said what the servers report.  Environment:

  UBLK_REPORT    that output: "dev=N ... state=S pid=P queues=Q depth=D
                 max_io=M size=BYTES flags=0xF(...) target=T" per device,
                 "  queue=Q tid=T" per queue, "  io q=Q tag=T op=OP
                 sector=S sectors=N state=held" per request the server holds
  UBLK_HELD_ID   the device whose server holds the requests
  UBLK_HELD      "OP:SECTOR+SECTORS ..." of the requests fio issued

Nothing moves while drgn reads: the held requests stay held until run.sh
releases them.
"""

import contextlib
import io
import os

from harness.drgn_helpers.ublk import device_state, for_each_ublk_device
from harness.drgn_helpers.ublk import main as ublk_main

DEV_FIELDS = ("state", "pid", "queues", "depth", "max_io", "size", "flags")


def plan() -> int:
    return 6


def parse_report(text: str) -> dict[int, dict]:
    """The devices of ``ublk list -v``: their fields, queue threads and held I/O."""
    devs: dict[int, dict] = {}
    cur: dict | None = None
    for line in text.splitlines():
        if line.startswith("dev="):
            fields = dict(item.split("=", 1) for item in line.split())
            cur = {"fields": fields, "tids": {}, "ios": set()}
            devs[int(fields["dev"])] = cur
        elif cur is not None and line.startswith("  queue="):
            f = dict(item.split("=", 1) for item in line.split())
            cur["tids"][int(f["queue"])] = int(f["tid"])
        elif cur is not None and line.startswith("  io q="):
            f = dict(item.split("=", 1) for item in line.split()[1:])
            cur["ios"].add((int(f["q"]), int(f["tag"]), f["op"], int(f["sector"]),
                            int(f["sectors"])))
    return devs


def server_view(fields: dict[str, str]) -> dict[str, object]:
    return {"state": fields["state"], "pid": int(fields["pid"]),
            "queues": int(fields["queues"]), "depth": int(fields["depth"]),
            "max_io": int(fields["max_io"]), "size": int(fields["size"]),
            "flags": int(fields["flags"].split("(")[0], 16)}


def drgn_view(dev) -> dict[str, object]:
    return {"state": dev.state, "pid": dev.server_pid, "queues": dev.nr_queues,
            "depth": dev.depth, "max_io": dev.max_io_bytes, "size": dev.size_sectors << 9,
            "flags": dev.flags}


def run(prog, results) -> None:
    text = results.report("UBLK_REPORT", "ublk list report")
    if text is None:
        return
    report = parse_report(text)
    held_id = int(os.environ["UBLK_HELD_ID"])
    devs = {d.dev_id: d for d in (device_state(ub) for ub in for_each_ublk_device(prog))}

    results.check(f"ublk: drgn finds the devices ublk list shows ({sorted(report)})",
                  set(devs) == set(report), f"drgn: {sorted(devs)}")

    got = {i: drgn_view(d) for i, d in devs.items()}
    want = {i: server_view(r["fields"]) for i, r in report.items()}
    results.equal("ublk: state, server pid, queues, depth, max_io, size and flags",
                  got, want, truth="ublk list")

    # the char device is open while a server runs, closed once it died
    problems = []
    for i, d in devs.items():
        live = d.state == "LIVE"
        if live != ("OPEN" in d.ub_state):
            problems.append(f"dev {i} {d.state}: char device state {d.ub_state}")
        if live and report.get(i):
            tids = {q.q_id: q.daemon_pid for q in d.queues}
            if tids != report[i]["tids"]:
                problems.append(f"dev {i}: queue daemons {tids}, ublk list {report[i]['tids']}")
            for q in d.queues:
                if q.nr_io_ready != q.depth:
                    problems.append(f"dev {i} queue {q.q_id}: {q.nr_io_ready} of "
                                    f"{q.depth} tags fetched")
    results.check("ublk: each live queue's daemon is the server's queue thread, every tag "
                  "fetched; ublkcN open only while a server runs", not problems, *problems)

    held = devs.get(held_id)
    inflight = held.inflight if held else ()
    kernel = {(io.q_id, io.tag, io.op, io.sector, io.sectors) for io in inflight}
    server = report.get(held_id, {}).get("ios", set())
    results.check(f"ublk: the in-flight requests of device {held_id} are the ones its "
                  "server holds (queue, tag, op, sector, length)",
                  bool(server) and kernel == server
                  and all(io.state == "server" for io in inflight),
                  f"drgn: {sorted(kernel)}", f"server: {sorted(server)}",
                  *(str(io) for io in inflight))

    want_held = set(os.environ.get("UBLK_HELD", "").split())
    got_held = {f"{io.op}:{io.sector}+{io.sectors}" for io in inflight}
    descs_ok = all(io.desc.op == io.op and io.desc.sector == io.sector
                   and io.desc.sectors == io.sectors for io in inflight)
    results.check("ublk: they are fio's requests, and each I/O descriptor says the same",
                  got_held == want_held and descs_ok,
                  f"drgn: {sorted(got_held)}", f"fio: {sorted(want_held)}",
                  *(f"{io.tag}: {io.desc}" for io in inflight))

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ublk_main(prog, [])
    dump = out.getvalue().splitlines()
    heads = [line for line in dump if line.startswith("ublk ")]
    ios = [line for line in dump if line.startswith("  io ")]
    results.check("ublk: the script dump shows every device and in-flight request",
                  len(heads) == len(report)
                  and len(ios) == sum(len(d.inflight) for d in devs.values()), *dump)
