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

A UBLK_F_BPF device (``CONFIG_UBLK_BPF``, drivers/block/ublk_bpf.c) has its
BPF state in ``ub->bpf`` (``struct ublk_bpf_dev``): the ``struct
ublk_bpf_ops`` it is attached to (``ops``, the kernel's copy in a struct_ops
map; NULL once detached) and the id it named (``ops_id``), its counters
(``stats``, the files of ``/sys/block/ublkbN/bpf/``), and for bpf aio
(``has_aio``) the aio owner (``aio``: the completion ops id, the files aios
name by index, the aios attached and not yet freed, bpf aio's counters).
An I/O a program took is held in the request's pdu (``struct ublk_rq_data``,
``bpf_io``): while its aios (or references taken from their completion) hold
it, ``bpf_io.ref`` is above zero and ``bpf_io.rq`` is the request; such a
started request is the program's (state ``bpf``).  Nothing of the device
points to its aios: each in flight is a work item of bpf aio's workqueue
(block/bpf_aio.c, ``bpf_aio_wq``), waiting on a worker pool's list or run by
a worker, whose ``owner`` is the device's ``bpf.aio`` and whose ``priv`` is
the I/O it holds (NULL once detached).

Run as a drgn script it dumps every device (or those given by id)::

    drgn -k -s build/obj/vmlinux --main-symbols harness/drgn_helpers/ublk.py [ID...]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator, Sequence

from harness.drgn_helpers.struct_ops import (
    StructOpsMap, describe_struct_ops, enum_name, struct_ops_map, struct_ops_program_ids)

if TYPE_CHECKING:
    from drgn import Object, Program, Type

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
UBLK_F_BPF = 1 << dict(FEATURE_FLAGS)["BPF"]
BPF_OPS_TYPE = "struct ublk_bpf_ops"
AIO_OPS_TYPE = "struct bpf_aio_complete_ops"
BPF_AIO_SOURCE = "bpf_aio.c"
# reading bpf aio's workqueue, whose lists other work items change (bpf_aio_works())
WALK_TRIES = 20
LIST_MAX = 100_000
# (file of /sys/block/ublkbN/bpf/, the counter's enumerator): the counters
# of enum ublk_bpf_stat (ub->bpf.stats) and enum bpf_aio_stat
# (ub->bpf.aio.stats); tests/tree/test_ublk_flags.py checks the names
# against ublk_bpf.c's attributes
BPF_STATS: tuple[tuple[str, str], ...] = (
    ("handled", "UBLK_BPF_STAT_HANDLED"), ("redirected", "UBLK_BPF_STAT_REDIRECTED"),
    ("split", "UBLK_BPF_STAT_SPLIT"), ("errors", "UBLK_BPF_STAT_ERRORS"),
    ("timeouts", "UBLK_BPF_STAT_TIMEOUTS"), ("handed_back", "UBLK_BPF_STAT_HANDED_BACK"),
)
AIO_STATS: tuple[tuple[str, str], ...] = (
    ("aio_submitted", "BPF_AIO_STAT_SUBMITTED"), ("aio_completed", "BPF_AIO_STAT_COMPLETED"),
    ("aio_wq", "BPF_AIO_STAT_WQ"), ("aio_errors", "BPF_AIO_STAT_ERRORS"),
)


def flag_names(value: int, table: tuple[tuple[str, int], ...]) -> list[str]:
    """Names of the bits set in ``value``; unknown bits as ``bit N``."""
    names = [name for name, bit in table if value & (1 << bit)]
    rest = value & ~sum(1 << bit for _, bit in table)
    return names + [f"bit {b}" for b in range(rest.bit_length()) if rest & (1 << b)]


def io_state(io_flags: int, bpf: bool = False) -> str:
    """Who has a started request: ``bpf`` if a BPF program owns it (its aios
    hold it), else what its tag's ``struct ublk_io`` flags say."""
    if bpf:
        return "bpf"
    names = flag_names(io_flags, IO_FLAGS)
    if "ABORTED" in names:
        return "aborted"
    if "OWNED_BY_SRV" in names:
        return "server"
    if "ACTIVE" in names:
        return "queued"
    return "completing"


def bpf_owns(rq: int, io_rq: int, has_aio: bool, ref: int) -> bool:
    """Whether a started request is a BPF program's, from its pdu's ``struct
    ublk_bpf_io``: set up for this request, with aios, and still held.

    A request redirected to the server has no aio (a REDIRECT after one
    fails it), and the last reference to go ends the request (``ref`` 0).
    The pdu of a request that did not reach the ops (detached) still holds
    its previous use, which ended: ``ref`` 0.
    """
    return io_rq == rq and has_aio and ref > 0


def file_index(file: int, files: Sequence[int]) -> int | None:
    """The index of ``struct file *`` ``file`` in a device's BPF files."""
    if not file:
        return None
    return files.index(file) if file in files else None


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
    state: str  # bpf, server, queued, aborted, completing
    io_flags: tuple[str, ...]
    desc: UblkDesc
    bpf_ref: int = 0  # a BPF I/O's bpf_io.ref: its aios and references taken
    bpf_err: int = 0  # its first error so far (bpf_io.err)


@dataclass(frozen=True)
class UblkBpfOps:
    """Kernel ops a BPF struct_ops map registered: the ``struct ublk_bpf_ops``
    of a device, or the ``struct bpf_aio_complete_ops`` of its aios."""

    address: int
    id: int  # ->id
    callbacks: tuple[str, ...]  # the function members set, in declaration order
    struct_ops: StructOpsMap
    program_ids: dict[str, int]  # member -> BPF program id


@dataclass(frozen=True)
class UblkAio:
    """A bpf aio of a device in flight, a work item of bpf aio's workqueue."""

    address: int
    op: str  # enum bpf_aio_op without BPF_AIO_OP_: FS_READ, FS_WRITE, FS_FSYNC, FS_FALLOCATE
    file_index: int | None  # in the device's files; None if the submit named none
    pos: int  # bytes
    bytes: int
    state: str  # queued (for a worker), running (in a worker)
    worker_pid: int | None
    io: tuple[int, int] | None  # (queue, tag) of the I/O it holds; None once detached
    io_done: bool  # the file I/O is over (inline, or a failed submit): the completion is left
    result: int


@dataclass(frozen=True)
class UblkBpf:
    """The BPF state of a UBLK_F_BPF device (``ub->bpf``)."""

    ops_id: int  # the id its parameter named
    ops: UblkBpfOps | None  # the ops attached; None once detached
    stats: dict[str, int]  # named as the files of /sys/block/ublkbN/bpf/
    aio_ops_id: int | None  # None without bpf aio
    aio_ops: UblkBpfOps | None  # the registered completion ops of that id
    files: tuple[str, ...]  # what aios name by index
    aio_inflight: int  # aios attached and not freed (bpf.aio.inflight)
    aios: tuple[UblkAio, ...]  # those found on the workqueue
    # why the running device lost its ops (sysfs exit_reason); "" while it has them
    exit_reason: str = ""

    @property
    def attached(self) -> bool:
        """As sysfs ``attached`` says it: ops, and not ejected."""
        return self.ops is not None and not self.exit_reason


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
    bpf: UblkBpf | None = None  # None unless UBLK_F_BPF

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


def is_bpf_device(ub: "Object") -> bool:
    """Whether a device is UBLK_F_BPF (and the kernel has CONFIG_UBLK_BPF)."""
    if not ub.dev_info.flags.value_() & UBLK_F_BPF:
        return False
    try:
        ub.member_("bpf")
    except LookupError:
        return False
    return True


def rq_bpf_io(rq: "Object") -> "Object":
    """The ``struct ublk_bpf_io`` in a request's pdu (``struct ublk_rq_data``)."""
    from drgn import Object

    prog = rq.prog_
    pdu = rq.value_() + prog.type("struct request").size
    return Object(prog, "struct ublk_rq_data", address=pdu).bpf_io


def _bpf_hold(rq: "Object") -> tuple[int, int] | None:
    """(ref, err) of a started request a BPF program owns, else None."""
    io = rq_bpf_io(rq)
    ref = io.ref.counter.value_()
    if not bpf_owns(rq.value_(), io.rq.value_(), bool(io.has_aio), ref):
        return None
    return ref, io.err.counter.value_()


def queue_state(ub: "Object", q_id: int) -> tuple[UblkQueue, list[UblkIo]]:
    """A queue and its in-flight requests."""
    ubq = ublk_queue(ub, q_id)
    depth = ubq.q_depth.value_()
    tags = ub.tag_set.tags[q_id]
    bpf = is_bpf_device(ub)
    ios: list[UblkIo] = []
    active = owned = 0
    for tag in range(depth):
        io_flags = ubq.ios[tag].flags.value_()
        active += bool(io_flags & 1)
        owned += bool(io_flags & 2)
        rq = tags.rqs[tag] if tags else None
        if not rq or rq.tag.value_() != tag or rq.state.value_() == MQ_RQ_IDLE:
            continue
        hold = _bpf_hold(rq) if bpf else None
        ref, err = hold or (0, 0)
        ios.append(UblkIo(
            q_id=q_id, tag=tag, op=req_op_name(ub.prog_, rq.cmd_flags.value_()),
            sector=rq.__sector.value_(), sectors=rq.__data_len.value_() >> 9,
            state=io_state(io_flags, hold is not None),
            io_flags=tuple(flag_names(io_flags, IO_FLAGS)),
            desc=_desc(ubq, tag), bpf_ref=ref, bpf_err=err))
    queue = UblkQueue(q_id=q_id, depth=depth, daemon_pid=_task_pid(ubq.ubq_daemon),
                      nr_io_ready=ubq.nr_io_ready.value_(), active=active,
                      owned_by_server=owned, canceling=bool(ubq.canceling),
                      force_abort=bool(ubq.force_abort))
    return queue, ios


def function_members(type_: "Type") -> list[str]:
    """The function pointer members of a struct type, in declaration order."""
    from drgn import TypeKind

    names = []
    for member in type_.unaliased().members or ():
        t = member.type.unaliased()
        if t.kind == TypeKind.POINTER and t.type.unaliased().kind == TypeKind.FUNCTION:
            names.append(member.name or "")
    return names


def bpf_ops(ops: "Object", type_name: str) -> UblkBpfOps:
    """Kernel ops ``ops`` (a ``type_name *`` into a struct_ops map): id,
    callbacks set, the map and its programs."""
    callbacks = tuple(name for name in function_members(ops.prog_.type(type_name))
                      if ops.member_(name).value_())
    return UblkBpfOps(address=ops.value_(), id=ops.id.value_(), callbacks=callbacks,
                      struct_ops=describe_struct_ops(ops, type_name),
                      program_ids=struct_ops_program_ids(struct_ops_map(ops), type_name))


def aio_complete_ops(prog: "Program", ops_id: int) -> "Object | None":
    """The registered ``struct bpf_aio_complete_ops *`` of an id, None if none."""
    from drgn import cast
    from drgn.helpers.linux.xarray import xa_load

    entry = xa_load(prog.variable("bpf_aio_ops_xa", BPF_AIO_SOURCE).address_of_(), ops_id)
    return cast(f"{AIO_OPS_TYPE} *", entry) if entry else None


def _counters(prog: "Program", stats: "Object",
              table: tuple[tuple[str, str], ...]) -> dict[str, int]:
    return {name: stats[prog.constant(enumerator).value_()].counter.value_()
            for name, enumerator in table}


def _entries(head: "Object", type_name: str, member: str) -> list["Object"]:
    """list_for_each_entry() of a list that others change while it is read:
    a list that does not come back to its head within LIST_MAX entries is
    one read half-changed (ValueError)."""
    from drgn.helpers.linux.list import list_for_each_entry

    entries = []
    for entry in list_for_each_entry(type_name, head, member):
        entries.append(entry)
        if len(entries) > LIST_MAX:
            raise ValueError(f"list at {head.value_():#x} longer than {LIST_MAX}")
    return entries


def _aio_works_once(wq: "Object", work_fn: int) -> list[tuple["Object", str, int | None]]:
    from drgn import container_of

    found: dict[int, tuple["Object", str, int | None]] = {}

    def add(work: "Object", state: str, pid: int | None) -> None:
        aio = container_of(work, "struct bpf_aio", "work")
        found[aio.value_()] = (aio, state, pid)

    pools: dict[int, "Object"] = {}
    for pwq in _entries(wq.pwqs.address_of_(), "struct pool_workqueue", "pwqs_node"):
        pools[pwq.pool.value_()] = pwq.pool
        for work in _entries(pwq.inactive_works.address_of_(), "struct work_struct", "entry"):
            if work.func.value_() == work_fn:
                add(work, "queued", None)
    workers = [wq.rescuer] if wq.rescuer else []
    for pool in pools.values():
        for work in _entries(pool.worklist.address_of_(), "struct work_struct", "entry"):
            if work.func.value_() == work_fn:
                add(work, "queued", None)
        workers += _entries(pool.workers.address_of_(), "struct worker", "node")
    for worker in workers:
        work = worker.current_work.read_()
        # the work's own function too: the worker may have moved on meanwhile
        if (work and worker.current_func.value_() == work_fn
                and work.func.value_() == work_fn):
            add(work, "running", _task_pid(worker.task))
    return list(found.values())


def bpf_aio_works(prog: "Program") -> list[tuple["Object", str, int | None]]:
    """Every bpf aio on bpf aio's workqueue: (``struct bpf_aio *``, ``queued``
    or ``running``, the pid of the worker running it); [] without
    CONFIG_BPF_AIO.

    Queued work waits on the worker pools of the workqueue's pool_workqueues
    (or, past max_active, on a pwq's inactive list); a running one is the
    ``current_work`` of a worker of those pools, or of the rescuer.  The
    pools of an unbound workqueue are shared (with system_unbound_wq, for
    one), the work function says which work items are aios, and their lists
    change while they are read without the pool's lock: a read that hits
    memory freed or reused meanwhile is tried again, WALK_TRIES times.
    """
    from drgn import FaultError

    try:
        wq = prog.variable("bpf_aio_wq", BPF_AIO_SOURCE)
        work_fn = prog.function("bpf_aio_work_fn", BPF_AIO_SOURCE).address_
    except LookupError:
        return []
    if not wq:
        return []
    for attempt in range(WALK_TRIES):
        try:
            return _aio_works_once(wq, work_fn)
        except (FaultError, ValueError):
            if attempt == WALK_TRIES - 1:
                raise
    return []


def device_aios(ub: "Object", works: list[tuple["Object", str, int | None]]) -> list[UblkAio]:
    """The aios of ``works`` (bpf_aio_works()) that are the device's."""
    from drgn import Object, cast

    owner = ub.bpf.aio.address_of_().value_()
    files = [ub.bpf.files[i].value_() for i in range(len(ub.bpf.files))]
    op_type = ub.prog_.type("enum bpf_aio_op")
    out = []
    for aio, state, pid in works:
        if aio.owner.value_() != owner:
            continue
        io = cast("struct ublk_bpf_io *", aio.priv)
        out.append(UblkAio(
            address=aio.value_(),
            op=enum_name(Object(ub.prog_, op_type, aio.op.value_()), "BPF_AIO_OP_"),
            file_index=file_index(aio.file.value_(), files), pos=aio.pos.value_(),
            bytes=aio.bytes.value_(), state=state, worker_pid=pid,
            io=(io.q_id.value_(), io.tag.value_()) if io else None,
            io_done=bool(aio.io_done), result=aio.result.value_()))
    return out


def bpf_state(ub: "Object", works: list[tuple["Object", str, int | None]] | None = None
              ) -> UblkBpf:
    """The BPF state of a UBLK_F_BPF device; ``works`` is bpf_aio_works()
    (read here if not given)."""
    from drgn.helpers.linux.fs import d_path

    prog = ub.prog_
    bd = ub.bpf
    ops = bd.ops.read_()
    has_aio = bool(bd.has_aio)
    aio_ops = aio_complete_ops(prog, bd.aio.ops_id.value_()) if has_aio else None
    files = tuple(d_path(bd.aio.files[i].f_path.address_of_()).decode(errors="replace")
                  for i in range(bd.aio.nr_files.value_())) if has_aio else ()
    if works is None:
        works = bpf_aio_works(prog)
    return UblkBpf(
        ops_id=bd.ops_id.value_(),
        ops=bpf_ops(ops, BPF_OPS_TYPE) if ops else None,
        stats=_counters(prog, bd.stats, BPF_STATS) | _counters(prog, bd.aio.stats, AIO_STATS),
        aio_ops_id=bd.aio.ops_id.value_() if has_aio else None,
        aio_ops=bpf_ops(aio_ops, AIO_OPS_TYPE) if aio_ops else None,
        files=files,
        aio_inflight=bd.aio.inflight.counter.value_(),
        aios=tuple(device_aios(ub, works)),
        exit_reason=bd.exit_reason.string_().decode(errors="replace"))


def device_state(ub: "Object",
                 works: list[tuple["Object", str, int | None]] | None = None) -> UblkDevice:
    """Everything the kernel holds about one ublk device; ``works``:
    bpf_aio_works(), read here for a BPF device if not given."""
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
        queues=tuple(queues), inflight=tuple(inflight),
        bpf=bpf_state(ub, works) if is_bpf_device(ub) else None)


def format_ops(ops: UblkBpfOps) -> str:
    m = ops.struct_ops
    return (f"struct_ops map {m.map_id} {m.map_name!r} {m.state}, "
            + ", ".join(f"{cb}={m.programs.get(cb, '?')} (prog {ops.program_ids.get(cb, '?')})"
                        for cb in ops.callbacks))


def format_bpf(bpf: UblkBpf) -> list[str]:
    """The BPF lines of a device's dump."""
    lines = [f"  bpf ops {bpf.ops_id}: " + (format_ops(bpf.ops) if bpf.ops else "detached")
             + (f"; exit: {bpf.exit_reason}" if bpf.exit_reason else ""),
             "  bpf counters: " + " ".join(f"{k} {v}" for k, v in bpf.stats.items())]
    if bpf.aio_ops_id is not None:
        lines.append(f"  bpf aio ops {bpf.aio_ops_id}: "
                     + (format_ops(bpf.aio_ops) if bpf.aio_ops else "not registered")
                     + f"; files {' '.join(bpf.files) or '-'}; {bpf.aio_inflight} in flight")
    for aio in bpf.aios:
        lines.append(f"  aio {aio.address:#x}: {aio.op} file {aio.file_index} pos {aio.pos} "
                     f"bytes {aio.bytes} {aio.state}"
                     + (f" (pid {aio.worker_pid})" if aio.worker_pid is not None else "")
                     + (f" io q {aio.io[0]} tag {aio.io[1]}" if aio.io else " detached")
                     + (f" done {aio.result}" if aio.io_done else ""))
    return lines


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
    if dev.bpf:
        lines += format_bpf(dev.bpf)
    for io in dev.inflight:
        lines.append(f"  io q {io.q_id} tag {io.tag}: {io.op} sector {io.sector} "
                     f"sectors {io.sectors} {io.state} ({','.join(io.io_flags) or '-'})"
                     + (f" ref {io.bpf_ref} err {io.bpf_err}" if io.state == "bpf" else ""))
    return lines


def main(prog: "Program", argv: list[str]) -> None:
    devs = [ublk_device(prog, int(a)) for a in argv] or list(for_each_ublk_device(prog))
    if not devs:
        print("no ublk devices")
    works = bpf_aio_works(prog)
    for ub in devs:
        print("\n".join(dump(device_state(ub, works))))
    if not argv:
        # aios of no ublk device (bpf aio has other users, or a device is gone)
        owners = {ub.bpf.aio.address_of_().value_() for ub in devs if is_bpf_device(ub)}
        for aio, state, _ in works:
            if aio.owner.value_() not in owners:
                print(f"bpf aio {aio.value_():#x}: owner {aio.owner.value_():#x}, "
                      f"no ublk device, {state}")


if __name__ == "__main__":
    main(prog, sys.argv[1:])  # type: ignore[name-defined]  # noqa: F821 (drgn's global)
