"""UFQ I/O scheduler state of request queues (block/ufq-iosched.c).

A queue uses UFQ when its elevator is ``ufq``; the elevator data is then a
``struct ufq_data`` with the queue's counters and two request lists: the
kernel FIFO (``fifo``) and the requests owned by the attached BPF scheduler
(``bpf_list``).  One BPF scheduler at a time serves every UFQ queue; its
state, name and exit reason are globals of block/ufq-bpfops.c.

The values these helpers return use the names and formats of the queue's
debugfs files (``/sys/kernel/debug/block/DISK/sched/{stats,sched,fifo,
bpf_queue}``), so that a test can compare the two views field by field.

Run as a drgn script it dumps every UFQ queue, or the named disks::

    drgn -k -s build/obj/vmlinux --main-symbols harness/drgn_helpers/ufq.py [DISK...]
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Iterator

from harness.drgn_helpers.block import queue_elevator_name
from harness.drgn_helpers.struct_ops import StructOpsMap, c_string, describe_struct_ops, enum_name

if TYPE_CHECKING:
    from drgn import Object, Program

UFQ_ELEVATOR = "ufq"
UFQ_OPS_TYPE = "struct ufq_iosched_ops"
BPFOPS_SOURCE = "ufq-bpfops.c"
# REQ_OP_MASK of include/linux/blk_types.h: the low REQ_OP_BITS (8) bits of cmd_flags
REQ_OP_MASK = 0xFF


@dataclass(frozen=True)
class UfqStats:
    """The counters of one queue, named as in debugfs ``sched/stats``."""

    inserted: int
    inserted_sectors: int
    dispatched: int
    dispatched_sectors: int
    bpf_dispatched: int
    merged_requests: int
    merged_request_sectors: int
    merged_bios: int
    merged_bio_sectors: int
    bpf_merged_bios: int
    finished: int
    finished_sectors: int
    insert_errors: int
    requeued: int
    queued_fifo: int
    queued_bpf: int

    @classmethod
    def from_debugfs(cls, text: str) -> "UfqStats":
        """Parse the ``sched/stats`` debugfs file ("name value" lines)."""
        values = parse_key_values(text)
        missing = [f.name for f in fields(cls) if f.name not in values]
        if missing:
            raise ValueError(f"sched/stats lacks {', '.join(missing)}: {text!r}")
        return cls(**{f.name: int(values[f.name]) for f in fields(cls)})


@dataclass(frozen=True)
class UfqScheduler:
    """The BPF scheduler state shared by every UFQ queue (debugfs ``sched/sched``).

    ``name`` is "none" while no scheduler was ever attached, else the name
    of the last one (kept after it detached, as debugfs shows it).
    ``attached`` is the struct_ops map of the scheduler attached now
    (possibly ejected but not yet detached by user space), or None.
    """

    name: str
    state: str  # disabled, enabling, enabled, ejecting, ejected, disabling
    exit_kind: str  # none, unregistered, bpf, watchdog, error
    exit_reason: str
    watchdog_timeout_ms: int
    attached: StructOpsMap | None
    attach_gen: int  # ufq_attach_gen: incremented by every attach


@dataclass(frozen=True)
class UfqRequest:
    """A request queued in the scheduler, not yet dispatched."""

    address: int
    op: str  # as debugfs shows it: READ, WRITE, FLUSH, DISCARD, ...
    tag: int  # driver tag, -1 while it has none
    internal_tag: int  # scheduler tag
    sector: int
    nr_sectors: int
    state: str  # enum ufq_rq_state without prefix: FIFO or BPF
    bpf_id: int | None  # the id the BPF scheduler knows it by (BPF list only)
    attach_gen: int  # the attach generation of the scheduler that owns it (0: the kernel)


@dataclass(frozen=True)
class UfqQueue:
    """Everything UFQ keeps for one request_queue."""

    disk: str
    queue_address: int
    ufq_data_address: int
    stats: UfqStats
    queue_attached: bool  # the BPF scheduler serves this queue now
    ops_name: str | None  # name in the ops this queue calls, when attached
    fifo: list[UfqRequest]
    bpf_queue: list[UfqRequest]


def parse_key_values(text: str) -> dict[str, str]:
    """``key value...`` lines (debugfs stats and sched files) as a dict."""
    result: dict[str, str] = {}
    for line in text.splitlines():
        key, _, value = line.strip().partition(" ")
        if key:
            result[key] = value
    return result


_RQ_FIELD = re.compile(r"\.(op|tag|internal_tag)=([^,}]+)")


def parse_debugfs_requests(text: str) -> list[dict[str, str]]:
    """The op, tag and internal_tag of each request line of a debugfs list
    (``sched/fifo``, ``sched/bpf_queue``: blk_mq_debugfs_rq_show() format)."""
    return [dict(_RQ_FIELD.findall(line)) for line in text.splitlines() if "{.op=" in line]


def ufq_data(queue: "Object") -> "Object | None":
    """The ``struct ufq_data *`` of a ``struct request_queue *``, or None
    when the queue has no elevator or another one than ufq."""
    from drgn import cast

    if queue_elevator_name(queue) != UFQ_ELEVATOR:
        return None
    return cast("struct ufq_data *", queue.elevator.elevator_data)


def ufq_stats(ufd: "Object") -> UfqStats:
    """The counters of a ``struct ufq_data *`` (read without its lock)."""
    s = ufd.stats
    return UfqStats(
        inserted=s.inserted.value_(),
        inserted_sectors=s.inserted_sectors.value_(),
        dispatched=s.dispatched.value_(),
        dispatched_sectors=s.dispatched_sectors.value_(),
        bpf_dispatched=s.bpf_dispatched.value_(),
        merged_requests=s.rq_merged.value_(),
        merged_request_sectors=s.rq_merged_sectors.value_(),
        merged_bios=s.bio_merged.value_(),
        merged_bio_sectors=s.bio_merged_sectors.value_(),
        bpf_merged_bios=s.bpf_bio_merged.value_(),
        finished=s.finished.counter.value_(),
        finished_sectors=s.finished_sectors.counter.value_(),
        insert_errors=s.insert_errors.value_(),
        requeued=s.requeued.counter.value_(),
        queued_fifo=ufd.nr_fifo.value_(),
        queued_bpf=ufd.nr_bpf.value_(),
    )


def _bpfops_variable(prog: "Program", name: str) -> "Object":
    return prog.variable(name, BPFOPS_SOURCE)


def _name_from_table(table: "Object", value: "Object", prefix: str) -> str:
    """value's string in a ``const char *const names[]`` of the kernel,
    falling back to the enumerator name in lower case."""
    index = value.value_()
    if 0 <= index < len(table) and table[index]:
        return table[index].string_().decode()
    return enum_name(value, prefix).lower()


def ufq_scheduler(prog: "Program") -> UfqScheduler:
    """The global BPF scheduler state, as every queue's ``sched/sched`` shows it."""
    state = _bpfops_variable(prog, "ufq_state_val")
    kind = _bpfops_variable(prog, "ufq_exit_kind_val")
    name = c_string(_bpfops_variable(prog, "ufq_sched_name"))
    if not name and enum_name(state) == "UFQ_DISABLED":
        name = "none"
    ops = _bpfops_variable(prog, "ufq_cur_ops")
    return UfqScheduler(
        name=name,
        state=_name_from_table(_bpfops_variable(prog, "ufq_state_names"), state, "UFQ_"),
        exit_kind=_name_from_table(_bpfops_variable(prog, "ufq_exit_names"), kind, "UFQ_EXIT_"),
        exit_reason=c_string(_bpfops_variable(prog, "ufq_exit_reason")),
        watchdog_timeout_ms=_bpfops_variable(prog, "watchdog_timeout_ms").value_(),
        attached=describe_struct_ops(ops, UFQ_OPS_TYPE) if ops else None,
        attach_gen=_bpfops_variable(prog, "ufq_attach_gen").value_(),
    )


def request_op(rq: "Object") -> str:
    """The operation of a ``struct request *`` as blk_op_str() names it."""
    from drgn import Object

    prog = rq.prog_
    op = Object(prog, prog.type("enum req_op"), rq.cmd_flags.value_() & REQ_OP_MASK)
    return enum_name(op, "REQ_OP_")


# rq->elv.priv[0]: enum ufq_rq_state in the low UFQ_RQ_STATE_BITS bits,
# the attach generation above them (block/ufq-iosched.h)
UFQ_RQ_STATE_BITS = 8


def _queued_request(rq: "Object") -> UfqRequest:
    from drgn import Object
    from drgn.helpers.linux.block import blk_rq_bytes, blk_rq_pos

    prog = rq.prog_
    packed = rq.elv.priv[0].value_()
    state = enum_name(Object(prog, prog.type("enum ufq_rq_state"),
                             packed & ((1 << UFQ_RQ_STATE_BITS) - 1)), "UFQ_RQ_")
    data = rq.elv.priv[1].value_()
    return UfqRequest(
        address=rq.value_(),
        op=request_op(rq),
        tag=rq.tag.value_(),
        internal_tag=rq.internal_tag.value_(),
        sector=blk_rq_pos(rq).value_(),
        nr_sectors=blk_rq_bytes(rq).value_() >> 9,
        state=state,
        bpf_id=data if state == "BPF" else None,
        attach_gen=packed >> UFQ_RQ_STATE_BITS,
    )


def ufq_requests(ufd: "Object", which: str) -> list[UfqRequest]:
    """The requests on ``ufd->fifo`` (``which="fifo"``) or ``ufd->bpf_list``
    (``which="bpf_queue"``), in list (dispatch) order."""
    from drgn.helpers.linux.list import list_for_each_entry

    head = {"fifo": ufd.fifo, "bpf_queue": ufd.bpf_list}[which]
    return [_queued_request(rq)
            for rq in list_for_each_entry("struct request", head.address_of_(), "queuelist")]


def ufq_queue(queue: "Object") -> UfqQueue:
    """The UFQ state of a ``struct request_queue *`` that uses ufq.

    Raises ValueError if the queue does not use ufq.
    """
    from drgn.helpers.linux.block import disk_name

    ufd = ufq_data(queue)
    if ufd is None:
        raise ValueError(f"request_queue {queue.value_():#x} does not use {UFQ_ELEVATOR}")
    ops = ufd.ops.read_()
    return UfqQueue(
        disk=disk_name(queue.disk).decode() if queue.disk else "",
        queue_address=queue.value_(),
        ufq_data_address=ufd.value_(),
        stats=ufq_stats(ufd),
        queue_attached=bool(ops),
        ops_name=c_string(ops.name) if ops else None,
        fifo=ufq_requests(ufd, "fifo"),
        bpf_queue=ufq_requests(ufd, "bpf_queue"),
    )


def for_each_ufq_queue(prog: "Program") -> Iterator[UfqQueue]:
    """The UFQ state of every disk whose queue uses ufq."""
    from drgn.helpers.linux.block import for_each_disk

    for disk in for_each_disk(prog):
        if ufq_data(disk.queue) is not None:
            yield ufq_queue(disk.queue)


def ufq_queue_of_disk(prog: "Program", disk: str) -> UfqQueue:
    """The UFQ state of the queue of the disk named ``disk`` (e.g. "nullb0").

    Raises LookupError if there is no such disk, ValueError if its queue
    does not use ufq.
    """
    from drgn.helpers.linux.block import disk_name, for_each_disk

    for gendisk in for_each_disk(prog):
        if disk_name(gendisk).decode() == disk:
            return ufq_queue(gendisk.queue)
    raise LookupError(f"no disk named {disk}")


def format_queue(q: UfqQueue) -> list[str]:
    """A readable dump of one queue, one line per item."""
    lines = [f"{q.disk}: request_queue {q.queue_address:#x} ufq_data {q.ufq_data_address:#x}",
             f"  bpf scheduler: {q.ops_name if q.queue_attached else '(not attached)'}"]
    lines += [f"  {f.name} {getattr(q.stats, f.name)}" for f in fields(q.stats)]
    for which, requests in (("fifo", q.fifo), ("bpf_queue", q.bpf_queue)):
        for rq in requests:
            ident = f" id {rq.bpf_id:#x} gen {rq.attach_gen}" if rq.bpf_id is not None else ""
            lines.append(f"  {which}: {rq.address:#x} {rq.op} sector {rq.sector} +{rq.nr_sectors}"
                         f" tag {rq.tag} internal_tag {rq.internal_tag}{ident}")
    return lines


def format_scheduler(s: UfqScheduler) -> list[str]:
    lines = [f"scheduler {s.name}: state {s.state}, exit {s.exit_kind}"
             + (f" ({s.exit_reason})" if s.exit_reason else "")
             + f", watchdog {s.watchdog_timeout_ms} ms, attach {s.attach_gen}"]
    if s.attached:
        a = s.attached
        lines.append(f"  struct_ops map {a.map_id} {a.map_name!r} {a.state}: "
                     + ", ".join(f"{m}={p}" for m, p in a.programs.items()))
    return lines


def main(prog: "Program", disks: list[str]) -> None:
    for line in format_scheduler(ufq_scheduler(prog)):
        print(line)
    queues = [ufq_queue_of_disk(prog, d) for d in disks] if disks else for_each_ufq_queue(prog)
    for q in queues:
        for line in format_queue(q):
            print(line)


if __name__ == "__main__":
    main(prog, sys.argv[1:])  # type: ignore[name-defined]  # noqa: F821 (drgn's script global)
