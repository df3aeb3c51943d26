# SPDX-License-Identifier: GPL-2.0
"""The ublk helper's BPF view must agree with sysfs, bpftool, the server and fio.

selftests/ublk/drgn_setup.sh leaves a device ("bpf") whose I/O the BPF loop
target (progs/ublk_loop.bpf.c, ``ublk add --bpf loop``) does with one bpf aio
per I/O on the block device of a second device ("lower", opened buffered),
whose server holds what the aios' page cache reads asked for: fio's reads of
bpf are the BPF program's, each held by its aio, which runs in a bpf aio
worker.  Environment:

  UBLK_BPF_ID        the bpf device (its ops id: the server's default)
  UBLK_BPF_LOWER_ID  lower
  UBLK_BPF_READS     "READ:SECTOR+SECTORS ..." of fio's reads
  UBLK_BPF_BASE      /sys/block/ublkbN/bpf/ counters before fio, "NAME=VALUE ..."
  UBLK_BPF_ADD_LOG   what `ublk add` said ("dev N: BPF PATH registered as ops ID")
  UBLK_BPF_STRUCT_OPS, UBLK_BPF_STRUCT_OPS_DUMP, UBLK_BPF_PROGS
                     bpftool -j struct_ops show, struct_ops dump, prog show
  UBLK_REPORT        `ublk list -v` (see ublk_checks.py)

Nothing moves while drgn reads: the aios wait until run.sh releases lower's
requests; sysfs is read before and after drgn, and only a view where both
reads agree counts.
"""

import contextlib
import io
import json
import os
import re
import time
from pathlib import Path

from harness.drgn_helpers.struct_ops import BPF_NAME_MAX
from harness.drgn_helpers.ublk import (
    AIO_STATS, BPF_STATS, device_state, ublk_device)
from harness.drgn_helpers.ublk import main as ublk_main
from ublk_checks import parse_report

# progs/ublk_loop.bpf.c and ublk_loop.h: the maps and the programs of each member
OBJECT = "ublk_loop.bpf.o"
OPS_MAP, OPS_PROGRAMS = "loop_ops", {"queue_io_cmd": "loop_queue_io_cmd"}
AIO_MAP, AIO_PROGRAMS = "loop_aio_ops", {"bpf_aio_complete_cb": "loop_aio_done"}
STATE_PREFIX = "BPF_STRUCT_OPS_STATE_"
SNAPSHOT_TRIES = 50
POLL_S = 0.1


def plan() -> int:
    return 10


def sysfs_counters(dev_id: int) -> dict[str, int | str]:
    base = f"/sys/block/ublkb{dev_id}/bpf"
    view: dict[str, int | str] = {}
    for name in [n for n, _ in BPF_STATS + AIO_STATS] + ["ops_id", "attached"]:
        with open(f"{base}/{name}") as fh:
            view[name] = int(fh.read())
    return view


def snapshot(prog, dev_id: int):
    """(sysfs view, UblkDevice) read while sysfs did not change; None if
    it kept changing."""
    for _ in range(SNAPSHOT_TRIES):
        before = sysfs_counters(dev_id)
        dev = device_state(ublk_device(prog, dev_id))
        if sysfs_counters(dev_id) == before:
            return before, dev
        time.sleep(POLL_S)
    return None


def key_values(text: str) -> dict[str, int]:
    return {k: int(v) for k, _, v in (item.partition("=") for item in text.split())}


def read_json(variable: str):
    with open(os.environ[variable]) as fh:
        return json.load(fh)


def bpftool_maps() -> dict[str, list[dict]]:
    """kernel struct_ops type -> [{id, name, state, members: {member: (prog
    name, prog id), or None if unset}}] of the struct_ops maps bpftool shows."""
    shown = {m["id"]: m for m in read_json("UBLK_BPF_STRUCT_OPS")}
    dumped = read_json("UBLK_BPF_STRUCT_OPS_DUMP")
    maps: dict[str, list[dict]] = {}
    # bpftool struct_ops dump: {"bpf_map_info": ...} then {VALUE_TYPE: value} per map;
    # a function member is "PROTOTYPE NAME/prog_id:ID", or "PROTOTYPE 0" if unset
    for info, value in zip(dumped[::2], dumped[1::2], strict=True):
        map_id = info["bpf_map_info"]["id"]
        (kvalue,) = value.values()
        members = {}
        for member, text in kvalue["data"].items():
            if not isinstance(text, str):
                continue
            found = re.search(r" (\S+)/prog_id:(\d+)$", text)
            members[member] = (found.group(1), int(found.group(2))) if found else None
        maps.setdefault(shown[map_id]["kernel_struct_ops"], []).append({
            "id": map_id, "name": shown[map_id]["name"],
            "state": kvalue["common"]["state"].removeprefix(STATE_PREFIX),
            "members": members})
    return maps


def bpftool_view(entry: dict, prog_names: dict[int, str]) -> tuple[dict, dict[str, str]]:
    """What bpftool says of a map, as the helper's UblkBpfOps has it, and the
    full names (from the programs' BTF) of the programs of its members."""
    linked = {m: p for m, p in entry["members"].items() if p}
    view = {"map_id": entry["id"], "map_name": entry["name"], "state": entry["state"],
            "callbacks": sorted(linked),
            # bpftool shows a program's full name (from its BTF), the
            # kernel keeps BPF_NAME_MAX characters of it
            "programs": {m: prog_names.get(pid, "?")[:BPF_NAME_MAX]
                         for m, (_, pid) in linked.items()},
            "program_ids": {m: pid for m, (_, pid) in linked.items()}}
    return view, {m: name for m, (name, _) in linked.items()}


def helper_view(ops) -> dict[str, object]:
    m = ops.struct_ops
    return {"map_id": m.map_id, "map_name": m.map_name, "state": m.state,
            "callbacks": sorted(ops.callbacks), "programs": m.programs,
            "program_ids": ops.program_ids}


def check_ops(results, bpf, dev_id: int, view: dict) -> None:
    log = results.report("UBLK_BPF_ADD_LOG", "ublk add log") or ""
    logged = re.findall(rf"dev {dev_id}: BPF (\S+) registered as ops (\d+)$", log, re.MULTILINE)
    got = {"ops_id": bpf.ops_id, "ops->id": bpf.ops.id if bpf.ops else None,
           "attached": int(bpf.attached), "aio_ops_id": bpf.aio_ops_id,
           "aio_ops->id": bpf.aio_ops.id if bpf.aio_ops else None}
    want = {"ops_id": view["ops_id"], "ops->id": view["ops_id"], "attached": view["attached"],
            "aio_ops_id": view["ops_id"], "aio_ops->id": view["ops_id"]}
    ok = (len(logged) == 1 and logged[0][0].endswith("/" + OBJECT)
          and int(logged[0][1]) == view["ops_id"] == dev_id and view["attached"] == 1)
    results.check(f"ublk bpf: device {dev_id} is attached to ops {dev_id}, which the server "
                  f"registered from {OBJECT}, its aios complete to the same id (sysfs, "
                  "`ublk add`)", ok and got == want,
                  f"logged: {logged}", f"drgn: {got}", f"sysfs: {want}")

    maps = bpftool_maps()
    prog_names = {p["id"]: p.get("name", "") for p in read_json("UBLK_BPF_PROGS")}
    for ops, kind, name, programs in ((bpf.ops, "ublk_bpf_ops", OPS_MAP, OPS_PROGRAMS),
                                      (bpf.aio_ops, "bpf_aio_complete_ops", AIO_MAP,
                                       AIO_PROGRAMS)):
        entries = maps.get(kind, [])
        tool, full_names = (bpftool_view(entries[0], prog_names) if len(entries) == 1
                            else ({}, {}))
        drgn = helper_view(ops) if ops else None
        # what the object defines, and the kernel's copies of the names
        source = {"map_name": name, "callbacks": sorted(programs),
                  "programs": {m: p[:BPF_NAME_MAX] for m, p in programs.items()}}
        results.check(f"ublk bpf: the {kind} map ({name}: its id, state, the callbacks set, "
                      "their programs' ids and names) as bpftool shows it",
                      bool(tool) and drgn == tool and full_names == programs
                      and all(tool[k] == v for k, v in source.items()),
                      f"bpftool {kind} maps: {entries}", f"drgn: {drgn}",
                      f"{OBJECT}: {source}, programs {programs}")


def run(prog, results) -> None:
    if "UBLK_BPF_ID" not in os.environ:
        results.msg("no ublk-bpf scenario (selftests/ublk/drgn_setup.sh failed)")
        return
    dev_id = int(os.environ["UBLK_BPF_ID"])
    lower_id = int(os.environ["UBLK_BPF_LOWER_ID"])
    reads = set(os.environ["UBLK_BPF_READS"].split())
    nr = len(reads)
    base = key_values(Path(os.environ["UBLK_BPF_BASE"]).read_text())

    snap = snapshot(prog, dev_id)
    if snap is None:
        results.msg(f"/sys/block/ublkb{dev_id}/bpf/ kept changing")
        return
    view, dev = snap
    bpf = dev.bpf
    if bpf is None:
        results.msg(f"drgn: device {dev_id} has no BPF state: {dev}")
        return
    check_ops(results, bpf, dev_id, view)

    results.check(f"ublk bpf: the aios name the file the server named, /dev/ublkb{lower_id}",
                  bpf.files == (f"/dev/ublkb{lower_id}",), f"drgn: {bpf.files}")

    counters = {k: v for k, v in view.items() if k not in ("ops_id", "attached")}
    results.equal("ublk bpf: the counters are sysfs's", bpf.stats, counters, truth="sysfs")

    # fio's reads each added an aio submitted through the workqueue, none done
    want = dict(base, aio_submitted=base["aio_submitted"] + nr, aio_wq=base["aio_wq"] + nr)
    results.equal(f"ublk bpf: fio's {nr} reads added {nr} aios submitted through the "
                  f"workqueue and nothing else; {nr} aios attached",
                  dict(bpf.stats, inflight=bpf.aio_inflight), dict(want, inflight=nr),
                  truth="before fio + fio")

    owned = [i for i in dev.inflight if i.state == "bpf"]
    got_reads = {f"{i.op}:{i.sector}+{i.sectors}" for i in owned}
    ios_ok = (len(owned) == nr == len(dev.inflight)
              and all(i.bpf_ref == 1 and i.bpf_err == 0 and i.q_id == 0
                      and (i.desc.op, i.desc.sector, i.desc.sectors) == (i.op, i.sector,
                                                                         i.sectors)
                      for i in owned))
    results.check(f"ublk bpf: the device's in-flight I/O are fio's {nr} reads, each the BPF "
                  "program's, held by one aio (ref 1, no error), its descriptor the same",
                  ios_ok and got_reads == reads, f"fio: {sorted(reads)}",
                  *(str(i) for i in dev.inflight))

    by_tag = {(i.q_id, i.tag): i for i in owned}
    aio_problems = []
    for aio in bpf.aios:
        i = by_tag.pop(aio.io, None) if aio.io else None
        comm = ""
        if aio.worker_pid is not None:
            with contextlib.suppress(OSError), open(f"/proc/{aio.worker_pid}/comm") as fh:
                comm = fh.read().strip()
        if (i is None or aio.op != "FS_READ" or aio.file_index != 0
                or aio.pos != i.sector << 9 or aio.bytes != i.sectors << 9
                or aio.state != "running" or not comm.startswith("kworker/")
                or aio.io_done or aio.result != 0):
            aio_problems.append(f"{aio} (worker {comm!r}) for {i}")
    results.check(f"ublk bpf: {nr} aios in flight, one per read: a read of file 0 at the "
                  "read's offset and length, running in a kworker",
                  len(bpf.aios) == nr and not aio_problems and not by_tag,
                  *aio_problems, f"I/O without an aio: {sorted(by_tag)}",
                  *(str(a) for a in bpf.aios))

    # lower: its server holds what the aios wait for
    # (ublk_checks.py showed the report)
    report = os.environ.get("UBLK_REPORT", "")
    text = Path(report).read_text() if report and os.path.exists(report) else ""
    server = parse_report(text).get(lower_id, {}).get("ios", set())
    lower = device_state(ublk_device(prog, lower_id))
    kernel = {(i.q_id, i.tag, i.op, i.sector, i.sectors) for i in lower.inflight}
    results.check(f"ublk bpf: the in-flight requests of device {lower_id} (lower) are those "
                  "its server holds",
                  bool(server) and kernel == server
                  and all(i.state == "server" for i in lower.inflight),
                  f"drgn: {sorted(kernel)}", f"server: {sorted(server)}")

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        ublk_main(prog, [str(dev_id)])
    dump = out.getvalue().splitlines()
    results.msg(out.getvalue())
    map_id = bpf.ops.struct_ops.map_id if bpf.ops else "?"
    ops_lines = [line for line in dump
                 if line.startswith(f"  bpf ops {dev_id}: struct_ops map {map_id} ")]
    aio_lines = [line for line in dump if line.startswith("  aio ")]
    bpf_ios = [line for line in dump if line.startswith("  io ") and " bpf (" in line]
    results.check("ublk bpf: the script dump shows the ops, the counters, the aio ops and "
                  "every BPF I/O and aio",
                  len(ops_lines) == 1 and len(aio_lines) == len(bpf_ios) == nr
                  and any(line.startswith("  bpf counters: handled ") for line in dump)
                  and any(line.startswith(f"  bpf aio ops {dev_id}: ") for line in dump),
                  *dump)
