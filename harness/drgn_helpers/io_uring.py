"""io_uring rings (``struct io_ring_ctx``) and their BPF loop ops.

A ring is found through an open file: io_uring files have
``f_op == &io_uring_fops`` and ``private_data`` pointing at the ring's
``struct io_ring_ctx``.  These helpers list the rings a task has open (by
file descriptor), or the ring behind one fd of a pid, and read a ring's
state: setup flags, SQ and CQ head and tail as the application sees them in
the shared ``struct io_rings``, CQ overflow, and the ``io_uring_bpf_ops``
installed by the BPF event loop series (io_uring/bpf-ops.c) with the
struct_ops map and program behind them.

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
    """(fd, ``struct io_ring_ctx *``) of every io_uring fd of a task."""
    from drgn.helpers.linux.fs import for_each_file

    for fd, file in for_each_file(task):
        if is_io_uring_file(file):
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


def ring_state(ctx: "Object") -> RingState:
    """The state of a ``struct io_ring_ctx *`` (read without its locks)."""
    from drgn.helpers.linux.list import list_count_nodes

    prog = ctx.prog_
    rings = ctx.rings
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
