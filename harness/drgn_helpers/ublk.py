"""ublk devices of drivers/block/ublk_drv.c (Linux 6.12), as the kernel holds them.

Every device is in ``ublk_index_idr`` (id -> ``struct ublk_device *``).  A
device has its ``dev_info`` (state, server pid, flags, queues, depth, largest
I/O), its char device state bits (``UB_STATE_*``), its disk (``ub_disk``,
NULL once stopped), and its queues: ``struct ublk_queue`` number q is at
``__queues + q * queue_size``, with its daemon task (the thread that fetched
every tag; NULL until then and after a recovery started), and one ``struct
ublk_io`` per tag whose ``flags`` say who owns the tag: ACTIVE (a FETCH or
COMMIT_AND_FETCH command waits in the kernel for a request), OWNED_BY_SRV
(the request was handed to the server, not committed yet), ABORTED.

An in-flight I/O is a started request of the device's tag set
(``tag_set.tags[q]->rqs[tag]``, ``rq->tag == tag``, state not idle): its
operation, sector and length are the request's; its state is ``server``
(handed to the server), ``queued`` (started, waiting for the daemon's task
work to hand it over), ``aborted``, or ``completing`` (committed, being
ended).  ``desc`` is what the kernel wrote for the server in the queue's
I/O descriptor buffer.

Run as a drgn script it dumps every device (or those given by id)::

    drgn -k -s build/obj/vmlinux --main-symbols harness/drgn_helpers/ublk.py [ID...]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from drgn import Object, Program

# include/uapi/linux/ublk_cmd.h and ublk_drv.c macros (not in DWARF);
# tests/tree/test_ublk_flags.py checks them against the tree's sources.
DEV_STATES = {0: "DEAD", 1: "LIVE", 2: "QUIESCED"}
FEATURE_FLAGS: tuple[tuple[str, int], ...] = (
    ("SUPPORT_ZERO_COPY", 0), ("URING_CMD_COMP_IN_TASK", 1), ("NEED_GET_DATA", 2),
    ("USER_RECOVERY", 3), ("USER_RECOVERY_REISSUE", 4), ("UNPRIVILEGED_DEV", 5),
    ("CMD_IOCTL_ENCODE", 6), ("USER_COPY", 7), ("ZONED", 8), ("BPF", 40),
)
IO_FLAGS: tuple[tuple[str, int], ...] = (
    ("ACTIVE", 0), ("OWNED_BY_SRV", 1), ("ABORTED", 2), ("NEED_GET_DATA", 3),
    ("CANCELED", 31),
)
UB_STATES: tuple[tuple[str, int], ...] = (("OPEN", 0), ("USED", 1), ("DELETED", 2))
# UBLK_IO_OP_* of the I/O descriptor
DESC_OPS = {0: "READ", 1: "WRITE", 2: "FLUSH", 3: "DISCARD", 4: "WRITE_SAME",
            5: "WRITE_ZEROES", 10: "ZONE_OPEN", 11: "ZONE_CLOSE", 12: "ZONE_FINISH",
            13: "ZONE_APPEND", 14: "ZONE_RESET_ALL", 15: "ZONE_RESET", 18: "REPORT_ZONES"}
REQ_OP_MASK = (1 << 8) - 1  # REQ_OP_BITS
MQ_RQ_IDLE = 0


def flag_names(value: int, table: tuple[tuple[str, int], ...]) -> list[str]:
    """Names of the bits set in ``value``; unknown bits as ``bit N``."""
    names = [name for name, bit in table if value & (1 << bit)]
    rest = value & ~sum(1 << bit for _, bit in table)
    return names + [f"bit {b}" for b in range(rest.bit_length()) if rest & (1 << b)]


def io_state(io_flags: int) -> str:
    """Who has a started request, from its tag's ``struct ublk_io`` flags."""
    names = flag_names(io_flags, IO_FLAGS)
    if "ABORTED" in names:
        return "aborted"
    if "OWNED_BY_SRV" in names:
        return "server"
    if "ACTIVE" in names:
        return "queued"
    return "completing"


@dataclass(frozen=True)
class UblkDesc:
    """The I/O descriptor of a tag (``struct ublksrv_io_desc``)."""

    op: str
    flags: int  # op_flags >> 8: UBLK_IO_F_*
    sector: int
    sectors: int


@dataclass(frozen=True)
class UblkIo:
    """An in-flight request of a ublk device."""

    q_id: int
    tag: int
    op: str  # the request's REQ_OP_*, without the prefix
    sector: int
    sectors: int
    state: str  # server, queued, aborted, completing
    io_flags: tuple[str, ...]
    desc: UblkDesc


@dataclass(frozen=True)
class UblkQueue:
    q_id: int
    depth: int
    daemon_pid: int | None  # the server thread serving the queue
    nr_io_ready: int  # tags fetched so far
    active: int  # tags whose command waits in the kernel
    owned_by_server: int  # tags handed to the server, not committed
    canceling: bool
    force_abort: bool


@dataclass(frozen=True)
class UblkDevice:
    dev_id: int
    state: str  # DEAD, LIVE, QUIESCED
    server_pid: int  # dev_info.ublksrv_pid, -1 when none
    flags: int
    nr_queues: int
    depth: int
    max_io_bytes: int
    disk: str | None  # ublkbN while it has a disk
    size_sectors: int  # the parameters' dev_sectors
    ub_state: tuple[str, ...]  # UB_STATE_* bits: OPEN (ublkcN open), USED, DELETED
    queues: tuple[UblkQueue, ...]
    inflight: tuple[UblkIo, ...]

    @property
    def flag_names(self) -> list[str]:
        return flag_names(self.flags, FEATURE_FLAGS)


def for_each_ublk_device(prog: "Program") -> Iterator["Object"]:
    """Every ``struct ublk_device *`` in ``ublk_index_idr``, by id."""
    from drgn import cast
    from drgn.helpers.linux.idr import idr_for_each

    for _, entry in idr_for_each(prog["ublk_index_idr"].address_of_()):
        yield cast("struct ublk_device *", entry)


def ublk_device(prog: "Program", dev_id: int) -> "Object":
    """The ``struct ublk_device *`` of a device id; LookupError if none."""
    from drgn import cast
    from drgn.helpers.linux.idr import idr_find

    entry = idr_find(prog["ublk_index_idr"].address_of_(), dev_id)
    if not entry:
        raise LookupError(f"no ublk device {dev_id}")
    return cast("struct ublk_device *", entry)


def ublk_queue(ub: "Object", q_id: int) -> "Object":
    """``struct ublk_queue *`` number ``q_id`` of a device."""
    from drgn import Object, cast

    base = ub.__queues.value_() + q_id * ub.queue_size.value_()
    return cast("struct ublk_queue *", Object(ub.prog_, "unsigned long", base))


def req_op_name(prog: "Program", cmd_flags: int) -> str:
    op = cmd_flags & REQ_OP_MASK
    for name, value in prog.type("enum req_op").enumerators or ():
        if value == op:
            return name.removeprefix("REQ_OP_")
    return f"op {op}"


def _desc(ubq: "Object", tag: int) -> UblkDesc:
    from drgn import Object

    buf = ubq.io_cmd_buf.value_()
    iod = Object(ubq.prog_, "struct ublksrv_io_desc",
                 address=buf + tag * ubq.prog_.type("struct ublksrv_io_desc").size)
    op_flags = iod.op_flags.value_()
    return UblkDesc(op=DESC_OPS.get(op_flags & 0xff, f"op {op_flags & 0xff}"),
                    flags=op_flags >> 8, sector=iod.start_sector.value_(),
                    sectors=iod.nr_sectors.value_())


def _task_pid(task: "Object") -> int | None:
    return task.pid.value_() if task else None


def queue_state(ub: "Object", q_id: int) -> tuple[UblkQueue, list[UblkIo]]:
    """A queue and its in-flight requests."""
    ubq = ublk_queue(ub, q_id)
    depth = ubq.q_depth.value_()
    tags = ub.tag_set.tags[q_id]
    ios: list[UblkIo] = []
    active = owned = 0
    for tag in range(depth):
        io_flags = ubq.ios[tag].flags.value_()
        active += bool(io_flags & 1)
        owned += bool(io_flags & 2)
        rq = tags.rqs[tag] if tags else None
        if not rq or rq.tag.value_() != tag or rq.state.value_() == MQ_RQ_IDLE:
            continue
        ios.append(UblkIo(
            q_id=q_id, tag=tag, op=req_op_name(ub.prog_, rq.cmd_flags.value_()),
            sector=rq.__sector.value_(), sectors=rq.__data_len.value_() >> 9,
            state=io_state(io_flags), io_flags=tuple(flag_names(io_flags, IO_FLAGS)),
            desc=_desc(ubq, tag)))
    queue = UblkQueue(q_id=q_id, depth=depth, daemon_pid=_task_pid(ubq.ubq_daemon),
                      nr_io_ready=ubq.nr_io_ready.value_(), active=active,
                      owned_by_server=owned, canceling=bool(ubq.canceling),
                      force_abort=bool(ubq.force_abort))
    return queue, ios


def device_state(ub: "Object") -> UblkDevice:
    """Everything the kernel holds about one ublk device."""
    info = ub.dev_info
    queues, inflight = [], []
    for q in range(info.nr_hw_queues.value_()):
        queue, ios = queue_state(ub, q)
        queues.append(queue)
        inflight += ios
    disk = ub.ub_disk
    return UblkDevice(
        dev_id=ub.ub_number.value_(), state=DEV_STATES.get(info.state.value_(), "UNKNOWN"),
        server_pid=info.ublksrv_pid.value_(), flags=info.flags.value_(),
        nr_queues=info.nr_hw_queues.value_(), depth=info.queue_depth.value_(),
        max_io_bytes=info.max_io_buf_bytes.value_(),
        disk=disk.disk_name.string_().decode() if disk else None,
        size_sectors=ub.params.basic.dev_sectors.value_(),
        ub_state=tuple(flag_names(ub.state.value_(), UB_STATES)),
        queues=tuple(queues), inflight=tuple(inflight))


def dump(dev: UblkDevice) -> list[str]:
    lines = [f"ublk {dev.dev_id}: {dev.state} server {dev.server_pid} disk {dev.disk} "
             f"{dev.nr_queues} queues depth {dev.depth} max_io {dev.max_io_bytes} "
             f"sectors {dev.size_sectors} flags {','.join(dev.flag_names)} "
             f"char {','.join(dev.ub_state) or '-'}"]
    for q in dev.queues:
        lines.append(f"  queue {q.q_id}: daemon {q.daemon_pid} ready {q.nr_io_ready}/{q.depth} "
                     f"active {q.active} server {q.owned_by_server}"
                     + (" canceling" if q.canceling else "")
                     + (" force_abort" if q.force_abort else ""))
    for io in dev.inflight:
        lines.append(f"  io q {io.q_id} tag {io.tag}: {io.op} sector {io.sector} "
                     f"sectors {io.sectors} {io.state} ({','.join(io.io_flags) or '-'})")
    return lines


def main(prog: "Program", argv: list[str]) -> None:
    devs = [ublk_device(prog, int(a)) for a in argv] or list(for_each_ublk_device(prog))
    if not devs:
        print("no ublk devices")
    for ub in devs:
        print("\n".join(dump(device_state(ub))))


if __name__ == "__main__":
    main(prog, sys.argv[1:])  # type: ignore[name-defined]  # noqa: F821 (drgn's global)
