"""io_uring rings (``struct io_ring_ctx``) and their BPF loop ops.

A ring is found through an open file: io_uring files have
``f_op == &io_uring_fops`` and ``private_data`` pointing at the ring's
``struct io_ring_ctx``.  These helpers list the rings a task has open (by
file descriptor), or the ring behind one fd of a pid, and read a ring's
state: setup flags, SQ and CQ head and tail as the application sees them in
the shared ``struct io_rings``, CQ overflow, and the ``io_uring_bpf_ops``
installed by the BPF event loop series (io_uring/bpf-ops.c) with the
struct_ops map and program behind them, and the IORING_OP_BPF operations
(io_uring/bpf_ext.c): each slot's ``uring_bpf_ops``, its struct_ops map and
programs, and the requests in flight that use it.

The requests in flight are found where a ring keeps waiting requests: the
poll tables (``cancel_table`` and ``cancel_table_locked``: a READ on an
empty pipe waits there), the timeout list, and the requests linked behind
each of them (``req->link``), e.g. BPF operations waiting in a link behind
such a READ.  Requests being issued right now or queued to io-wq are not
looked for.

Run as a drgn script it dumps the rings of every task, of one pid, or the
ring of one fd of a pid::

    drgn -k -s build/obj/vmlinux --main-symbols harness/drgn_helpers/io_uring.py [PID [FD]]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

from harness.drgn_helpers.struct_ops import StructOpsMap, describe_struct_ops

if TYPE_CHECKING:
    from drgn import Object, Program

BPF_OPS_TYPE = "struct io_uring_bpf_ops"
BPF_EXT_OPS_TYPE = "struct uring_bpf_ops"
# IORING_OP_BPF and IORING_BPF_OP_SHIFT of include/uapi/linux/io_uring.h
# (an enumerator and a macro); tests/tree/test_io_uring_flags.py checks them
IORING_OP_BPF = 65
IORING_BPF_OP_SHIFT = 24
# ->priv of ops whose ring was freed while they were attached (bpf-ops.c)
BPF_OPS_ORPHANED = (1 << 64) - 1

# IORING_SETUP_* of include/uapi/linux/io_uring.h (macros: not in DWARF).
# tests/tree/test_io_uring_flags.py checks this table against the header.
SETUP_FLAGS: tuple[tuple[str, int], ...] = (
    ("IOPOLL", 0), ("SQPOLL", 1), ("SQ_AFF", 2), ("CQSIZE", 3), ("CLAMP", 4),
    ("ATTACH_WQ", 5), ("R_DISABLED", 6), ("SUBMIT_ALL", 7), ("COOP_TASKRUN", 8),
    ("TASKRUN_FLAG", 9), ("SQE128", 10), ("CQE32", 11), ("SINGLE_ISSUER", 12),
    ("DEFER_TASKRUN", 13), ("NO_MMAP", 14), ("REGISTERED_FD_ONLY", 15),
    ("NO_SQARRAY", 16), ("SQ_REWIND", 20), ("BPF_EXT", 21),
)
# IORING_SQ_* bits of io_rings->sq_flags
SQ_FLAGS: tuple[tuple[str, int], ...] = (
    ("NEED_WAKEUP", 0), ("CQ_OVERFLOW", 1), ("TASKRUN", 2),
)


def flag_names(value: int, table: tuple[tuple[str, int], ...]) -> list[str]:
    """Names of the bits set in ``value``; unknown bits as ``bit N``."""
    names = [name for name, bit in table if value & (1 << bit)]
    known = sum(1 << bit for _, bit in table)
    rest = value & ~known
    names += [f"bit {bit}" for bit in range(rest.bit_length()) if rest & (1 << bit)]
    return names


@dataclass(frozen=True)
class BpfLoopOps:
    """``struct io_uring_bpf_ops`` installed in a ring (``ctx->bpf_ops``)."""

    address: int
    ring_fd: int  # the fd the attaching task named in the struct_ops map
    priv: int  # the ring the ops say they are installed in
    struct_ops: StructOpsMap

    @property
    def installed_in(self) -> int | None:
        """The ctx address ``priv`` names; None when orphaned or unset."""
        return None if self.priv in (0, BPF_OPS_ORPHANED) else self.priv


@dataclass(frozen=True)
class BpfExtOp:
    """An IORING_OP_BPF operation registered in a ring (``ctx->bpf_ext_ops[slot]``)."""

    slot: int
    address: int  # struct uring_bpf_ops * (the struct_ops map's kernel value)
    id: int  # ->id, the slot the struct_ops map asked for
    ring_fd: int
    priv: int  # the ring the ops say they are registered in
    struct_ops: StructOpsMap
    in_flight: int  # requests found waiting (see the module's doc) that use it


@dataclass(frozen=True)
class BpfExtRequest:
    """An IORING_OP_BPF request in flight."""

    address: int  # struct io_kiocb *
    slot: int  # from sqe->bpf_op_flags
    ops: int  # the uring_bpf_ops it holds (0 before prep set it)
    behind: int  # the opcode of the request it waits behind in its link
    user_data: int


@dataclass(frozen=True)
class RingState:
    """One io_uring instance, as the kernel holds it."""

    ctx: int  # struct io_ring_ctx *
    setup_flags: int
    sq_entries: int
    cq_entries: int
    # shared with the application (struct io_rings)
    sq_head: int
    sq_tail: int
    cq_head: int
    cq_tail: int
    sq_flags: int
    cq_overflow: int  # CQEs dropped (counter in the CQ ring)
    # kernel private
    cached_sq_head: int
    cached_cq_tail: int
    overflow_pending: int  # CQEs waiting on ctx->cq_overflow_list
    overflow_flag: bool  # IO_CHECK_CQ_OVERFLOW_BIT in ctx->check_cq
    submitter_pid: int | None  # SINGLE_ISSUER rings: the submitter task
    loop_step: int  # ctx->loop_step, 0 when no event loop is installed
    bpf_ops: BpfLoopOps | None
    bpf_ext_ops: tuple[BpfExtOp, ...] = ()
    bpf_ext_requests: tuple[BpfExtRequest, ...] = ()

    @property
    def setup_flag_names(self) -> list[str]:
        return flag_names(self.setup_flags, SETUP_FLAGS)

    @property
    def sq_flag_names(self) -> list[str]:
        return flag_names(self.sq_flags, SQ_FLAGS)


def is_io_uring_file(file: "Object") -> bool:
    """Whether a ``struct file *`` is an io_uring instance."""
    fops = file.prog_.object("io_uring_fops")
    return file.f_op.value_() == fops.address_


def ring_of_file(file: "Object") -> "Object":
    """The ``struct io_ring_ctx *`` of an io_uring ``struct file *``."""
    from drgn import cast

    if not is_io_uring_file(file):
        raise ValueError(f"file {file.value_():#x} is not an io_uring")
    return cast("struct io_ring_ctx *", file.private_data)


def for_each_task_ring(task: "Object") -> Iterator[tuple[int, "Object"]]:
    """(fd, ``struct io_ring_ctx *``) of every io_uring fd of a task.

    A task in open() or close() has an fd whose bit is set in the table
    while its slot is NULL: such fds are skipped."""
    from drgn.helpers.linux.fs import for_each_file

    for fd, file in for_each_file(task):
        if file and is_io_uring_file(file):
            yield fd, ring_of_file(file)


def ring_of_fd(prog: "Program", pid: int, fd: int) -> "Object":
    """The ``struct io_ring_ctx *`` behind file descriptor ``fd`` of ``pid``.

    Raises LookupError if there is no such task or fd, ValueError if the fd
    is not an io_uring.
    """
    from drgn.helpers.linux.fs import fget
    from drgn.helpers.linux.pid import find_task

    task = find_task(prog, pid)
    if not task:
        raise LookupError(f"no task {pid}")
    file = fget(task, fd)
    if not file:
        raise LookupError(f"task {pid} has no fd {fd}")
    return ring_of_file(file)


def for_each_ring(prog: "Program") -> Iterator[tuple[int, int, "Object"]]:
    """(pid, fd, ctx) of every io_uring fd of every thread group leader;
    a ring shared by several fds or tasks appears once per fd."""
    from drgn.helpers.linux.pid import for_each_task

    for task in for_each_task(prog):
        if task.pid != task.tgid or not task.files:
            continue
        for fd, ctx in for_each_task_ring(task):
            yield task.pid.value_(), fd, ctx


def bpf_loop_ops(ctx: "Object") -> BpfLoopOps | None:
    """The BPF loop ops installed in a ring, None if none are (or the
    kernel is built without CONFIG_IO_URING_BPF_OPS)."""
    try:
        ops = ctx.bpf_ops.read_()
    except AttributeError:
        return None
    if not ops:
        return None
    return BpfLoopOps(
        address=ops.value_(),
        ring_fd=ops.ring_fd.value_(),
        priv=ops.priv.value_(),
        struct_ops=describe_struct_ops(ops, BPF_OPS_TYPE),
    )


def _hash_table_requests(table: "Object") -> Iterator["Object"]:
    from drgn.helpers.linux.list import hlist_for_each_entry

    if not table.hbs:
        return
    for i in range(1 << table.hash_bits.value_()):
        yield from hlist_for_each_entry("struct io_kiocb", table.hbs[i].list.address_of_(),
                                        "hash_node")


def _timeout_requests(ctx: "Object") -> Iterator["Object"]:
    """The requests of ctx->timeout_list (struct io_timeout in their cmd)."""
    from drgn import cast, container_of
    from drgn.helpers.linux.list import list_for_each_entry

    for timeout in list_for_each_entry("struct io_timeout", ctx.timeout_list.address_of_(),
                                       "list"):
        yield container_of(cast("struct io_cmd_data *", timeout), "struct io_kiocb", "cmd")


def waiting_requests(ctx: "Object") -> Iterator[tuple["Object", "Object | None"]]:
    """(request, the request before it in its link or None) of every request
    waiting in the poll tables or on the timeout list, and of those linked
    behind them."""
    heads = [*_hash_table_requests(ctx.cancel_table),
             *_hash_table_requests(ctx.cancel_table_locked), *_timeout_requests(ctx)]
    seen: set[int] = set()
    for head in heads:
        prev, req = None, head
        while req and req.value_() not in seen:
            seen.add(req.value_())
            yield req, prev
            prev, req = req, req.link.read_()


def bpf_ext_requests(ctx: "Object") -> list[BpfExtRequest]:
    """The IORING_OP_BPF requests in flight that waiting_requests() finds."""
    from drgn import cast

    out = []
    for req, prev in waiting_requests(ctx):
        if req.opcode.value_() != IORING_OP_BPF:
            continue
        data = cast("struct uring_bpf_data *", req.cmd.address_of_())
        out.append(BpfExtRequest(
            address=req.value_(), slot=data.opf.value_() >> IORING_BPF_OP_SHIFT,
            ops=data.ops.value_(), behind=prev.opcode.value_() if prev is not None else -1,
            user_data=req.cqe.user_data.value_()))
    return out


def bpf_ext_ops(ctx: "Object", requests: list[BpfExtRequest] | None = None) -> list[BpfExtOp]:
    """The IORING_OP_BPF operations registered in a ring, by slot ([] if the
    kernel is built without CONFIG_IO_URING_BPF_EXT), with the requests in
    flight of each (``requests``: bpf_ext_requests(ctx) by default)."""
    try:
        slots = ctx.bpf_ext_ops
    except AttributeError:
        return []
    if requests is None:
        requests = bpf_ext_requests(ctx)
    out = []
    for slot in range(len(slots)):
        ops = slots[slot].read_()
        if not ops:
            continue
        out.append(BpfExtOp(
            slot=slot, address=ops.value_(), id=ops.id.value_(), ring_fd=ops.ring_fd.value_(),
            priv=ops.priv.value_(), struct_ops=describe_struct_ops(ops, BPF_EXT_OPS_TYPE),
            in_flight=sum(r.ops == ops.value_() for r in requests)))
    return out


def hasattr_(obj: "Object", member: str) -> bool:
    """Whether a drgn object has a member (the kernel's config decides)."""
    try:
        obj.member_(member)
    except LookupError:
        return False
    return True


def ring_state(ctx: "Object") -> RingState:
    """The state of a ``struct io_ring_ctx *`` (read without its locks)."""
    from drgn.helpers.linux.list import list_count_nodes

    prog = ctx.prog_
    rings = ctx.rings
    requests = bpf_ext_requests(ctx) if hasattr_(ctx, "bpf_ext_ops") else []
    overflow_bit = prog["IO_CHECK_CQ_OVERFLOW_BIT"].value_()
    submitter = ctx.submitter_task.read_()
    try:
        loop_step = ctx.loop_step.value_()
    except AttributeError:
        loop_step = 0
    return RingState(
        ctx=ctx.value_(),
        setup_flags=ctx.flags.value_(),
        sq_entries=ctx.sq_entries.value_(),
        cq_entries=ctx.cq_entries.value_(),
        sq_head=rings.sq.head.value_(),
        sq_tail=rings.sq.tail.value_(),
        cq_head=rings.cq.head.value_(),
        cq_tail=rings.cq.tail.value_(),
        sq_flags=rings.sq_flags.counter.value_(),
        cq_overflow=rings.cq_overflow.value_(),
        cached_sq_head=ctx.cached_sq_head.value_(),
        cached_cq_tail=ctx.cached_cq_tail.value_(),
        overflow_pending=list_count_nodes(ctx.cq_overflow_list.address_of_()),
        overflow_flag=bool(ctx.check_cq.value_() & (1 << overflow_bit)),
        submitter_pid=submitter.pid.value_() if submitter else None,
        loop_step=loop_step,
        bpf_ops=bpf_loop_ops(ctx),
        bpf_ext_ops=tuple(bpf_ext_ops(ctx, requests)),
        bpf_ext_requests=tuple(requests),
    )


def format_ring(r: RingState, where: str = "") -> list[str]:
    """A readable dump of one ring, one line per item."""
    lines = [
        f"{where}io_ring_ctx {r.ctx:#x} flags {r.setup_flags:#x} ({'|'.join(r.setup_flag_names)})"
        f" sq_entries {r.sq_entries} cq_entries {r.cq_entries}",
        f"  SQ head {r.sq_head} tail {r.sq_tail} (kernel head {r.cached_sq_head})"
        f" flags {r.sq_flags:#x} ({'|'.join(r.sq_flag_names)})",
        f"  CQ head {r.cq_head} tail {r.cq_tail} (kernel tail {r.cached_cq_tail})",
        f"  overflow: {r.overflow_pending} CQEs pending, flag {int(r.overflow_flag)},"
        f" {r.cq_overflow} dropped",
    ]
    if r.submitter_pid is not None:
        lines.append(f"  submitter pid {r.submitter_pid}")
    if r.bpf_ops:
        o, m = r.bpf_ops, r.bpf_ops.struct_ops
        lines.append(f"  bpf ops {o.address:#x} ring_fd {o.ring_fd} priv {o.priv:#x}: struct_ops"
                     f" map {m.map_id} {m.map_name!r} {m.state}, "
                     + ", ".join(f"{k}={v}" for k, v in m.programs.items()))
    elif r.loop_step:
        lines.append(f"  loop_step {r.loop_step:#x} (not BPF)")
    for op in r.bpf_ext_ops:
        m = op.struct_ops
        lines.append(f"  bpf op slot {op.slot} {op.address:#x} ring_fd {op.ring_fd}: struct_ops"
                     f" map {m.map_id} {m.map_name!r} {m.state}, "
                     + ", ".join(f"{k}={v}" for k, v in m.programs.items())
                     + f"; {op.in_flight} in flight")
    registered = {op.address for op in r.bpf_ext_ops}
    for req in r.bpf_ext_requests:
        lines.append(f"  bpf request {req.address:#x} slot {req.slot} user_data {req.user_data}"
                     f" behind opcode {req.behind}"
                     + ("" if req.ops in registered else f" (ops {req.ops:#x} unregistered)"))
    return lines


def main(prog: "Program", args: list[str]) -> None:
    from drgn.helpers.linux.pid import find_task

    if len(args) >= 2:
        pid, fd = int(args[0]), int(args[1])
        rings: Iterator[tuple[int, int, "Object"]] = iter([(pid, fd, ring_of_fd(prog, pid, fd))])
    elif args:
        pid = int(args[0])
        task = find_task(prog, pid)
        if not task:
            raise LookupError(f"no task {pid}")
        rings = ((pid, fd, ctx) for fd, ctx in for_each_task_ring(task))
    else:
        rings = for_each_ring(prog)
    for pid, fd, ctx in rings:
        for line in format_ring(ring_state(ctx), where=f"pid {pid} fd {fd}: "):
            print(line)


if __name__ == "__main__":
    main(prog, sys.argv[1:])  # type: ignore[name-defined]  # noqa: F821 (drgn's script global)
