"""Pure parts of the drgn helpers: debugfs parsing and flag decoding (no VM)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from harness.drgn_helpers.io_uring import SETUP_FLAGS, SQ_FLAGS, flag_names
from harness.drgn_helpers.ufq import UfqStats, parse_debugfs_requests, parse_key_values

STATS = """inserted 12
inserted_sectors 96
dispatched 10
dispatched_sectors 80
bpf_dispatched 4
merged_requests 2
merged_request_sectors 16
merged_bios 3
merged_bio_sectors 24
bpf_merged_bios 2
finished 9
finished_sectors 72
insert_errors 0
requeued 1
queued_fifo 0
queued_bpf 0
"""

# blk_mq_debugfs_rq_show() lines as ufq's sched/fifo and sched/bpf_queue show them
REQUESTS = (
    "00000000c0ffee00 {.op=WRITE, .cmd_flags=SYNC|IDLE, .rq_flags=ELVPRIV|IO_STAT,"
    " .state=idle, .tag=-1, .internal_tag=3}\n"
    "000000001234abcd {.op=READ, .cmd_flags=, .rq_flags=IO_STAT, .state=idle, .tag=-1,"
    " .internal_tag=17}\n"
)


def test_stats_from_debugfs() -> None:
    stats = UfqStats.from_debugfs(STATS)
    assert stats.inserted == 12 and stats.merged_bio_sectors == 24 and stats.queued_bpf == 0
    assert stats.requeued == 1
    assert {f.name for f in fields(UfqStats)} == set(parse_key_values(STATS))


def test_stats_from_debugfs_names_what_is_missing() -> None:
    with pytest.raises(ValueError, match="queued_bpf"):
        UfqStats.from_debugfs(STATS.replace("queued_bpf 0\n", ""))


def test_key_values_keep_the_rest_of_the_line() -> None:
    sched = "name ufq_test_fifo\nstate ejected\nexit_reason watchdog: request on x not dispatched\n"
    values = parse_key_values(sched + "exit_kind none\n\n")
    assert values["exit_reason"] == "watchdog: request on x not dispatched"
    assert values["name"] == "ufq_test_fifo" and values["exit_kind"] == "none"
    assert parse_key_values("exit_reason \n")["exit_reason"] == ""


def test_debugfs_requests() -> None:
    assert parse_debugfs_requests(REQUESTS) == [
        {"op": "WRITE", "tag": "-1", "internal_tag": "3"},
        {"op": "READ", "tag": "-1", "internal_tag": "17"},
    ]
    assert parse_debugfs_requests("") == []


def test_flag_names() -> None:
    assert flag_names((1 << 12) | (1 << 13), SETUP_FLAGS) == ["SINGLE_ISSUER", "DEFER_TASKRUN"]
    assert flag_names(1 << 20, SETUP_FLAGS) == ["SQ_REWIND"]
    assert flag_names((1 << 1) | (1 << 30), SQ_FLAGS) == ["CQ_OVERFLOW", "bit 30"]
    assert flag_names(0, SETUP_FLAGS) == []


def test_ring_dump_lists_the_bpf_operations_and_their_requests() -> None:
    from harness.drgn_helpers.io_uring import (BpfExtOp, BpfExtRequest, RingState,
                                               format_ring)
    from harness.drgn_helpers.struct_ops import StructOpsMap

    m = StructOpsMap(address=0x10, map_id=7, map_name="op0", state="INUSE",
                     programs={"prep_fn": "t_prep", "issue_fn": "t_issue"})
    ops = (BpfExtOp(slot=3, address=0xa0, id=3, ring_fd=4, priv=0xc0, struct_ops=m,
                    in_flight=1),)
    reqs = (BpfExtRequest(address=0xb0, slot=3, ops=0xa0, behind=22, user_data=11),
            BpfExtRequest(address=0xb8, slot=0, ops=0xd0, behind=11, user_data=21))
    state = RingState(ctx=0xc0, setup_flags=1 << 21, sq_entries=8, cq_entries=16, sq_head=0,
                      sq_tail=0, cq_head=0, cq_tail=0, sq_flags=0, cq_overflow=0,
                      cached_sq_head=0, cached_cq_tail=0, overflow_pending=0,
                      overflow_flag=False, submitter_pid=None, loop_step=0, bpf_ops=None,
                      bpf_ext_ops=ops, bpf_ext_requests=reqs)
    lines = format_ring(state)
    assert "(BPF_EXT)" in lines[0]
    assert ("  bpf op slot 3 0xa0 ring_fd 4: struct_ops map 7 'op0' INUSE,"
            " prep_fn=t_prep, issue_fn=t_issue; 1 in flight") in lines
    assert "  bpf request 0xb0 slot 3 user_data 11 behind opcode 22" in lines
    # a request that keeps ops no longer in a slot says so
    assert "  bpf request 0xb8 slot 0 user_data 21 behind opcode 11 (ops 0xd0 unregistered)" \
        in lines


def test_ublk_io_state_says_bpf_before_the_tag_flags() -> None:
    from harness.drgn_helpers.ublk import io_state

    assert io_state(1) == "queued" and io_state(1, bpf=True) == "bpf"
    assert io_state(2) == "server" and io_state(4 | 2, bpf=True) == "bpf"
    assert io_state(0) == "completing"


def test_ublk_bpf_owns_only_a_held_request_with_aios() -> None:
    from harness.drgn_helpers.ublk import bpf_owns

    assert bpf_owns(0x100, 0x100, True, 1)
    assert bpf_owns(0x100, 0x100, True, 3)
    # redirected to the server: no aio, ref still 1
    assert not bpf_owns(0x100, 0x100, False, 1)
    # every aio done: the request ended
    assert not bpf_owns(0x100, 0x100, True, 0)
    # another request's state in the pdu
    assert not bpf_owns(0x100, 0x200, True, 1)


def test_ublk_aio_file_index() -> None:
    from harness.drgn_helpers.ublk import file_index

    files = [0xa0, 0xb0, 0, 0]
    assert file_index(0xb0, files) == 1 and file_index(0xa0, files) == 0
    assert file_index(0xc0, files) is None
    # a submit that failed before naming a file
    assert file_index(0, files) is None


def _ublk_bpf_device():
    from harness.drgn_helpers.struct_ops import StructOpsMap
    from harness.drgn_helpers.ublk import (AIO_STATS, BPF_STATS, UblkAio, UblkBpf, UblkBpfOps,
                                           UblkDesc, UblkDevice, UblkIo)

    ops = UblkBpfOps(address=0x10, id=3, callbacks=("queue_io_cmd",),
                     struct_ops=StructOpsMap(address=0x8, map_id=12, map_name="loop_ops",
                                             state="INUSE",
                                             programs={"queue_io_cmd": "loop_queue_io_c"}),
                     program_ids={"queue_io_cmd": 40})
    aio_ops = UblkBpfOps(address=0x20, id=3, callbacks=("bpf_aio_complete_cb",),
                         struct_ops=StructOpsMap(address=0x18, map_id=13,
                                                 map_name="loop_aio_ops", state="INUSE",
                                                 programs={"bpf_aio_complete_cb":
                                                           "loop_aio_done"}),
                         program_ids={"bpf_aio_complete_cb": 41})
    stats = dict.fromkeys([name for name, _ in BPF_STATS + AIO_STATS], 0)
    stats.update(handled=7, aio_submitted=9, aio_completed=7, aio_wq=9)
    aios = (UblkAio(address=0xa0, op="FS_READ", file_index=0, pos=4 << 20, bytes=4096,
                    state="running", worker_pid=55, io=(0, 2), io_done=False, result=0),
            UblkAio(address=0xb0, op="FS_READ", file_index=None, pos=0, bytes=0,
                    state="queued", worker_pid=None, io=None, io_done=True, result=-9))
    bpf = UblkBpf(ops_id=3, ops=ops, stats=stats, aio_ops_id=3, aio_ops=aio_ops,
                  files=("/dev/ublkb2",), aio_inflight=2, aios=aios)
    io = UblkIo(q_id=0, tag=2, op="READ", sector=8192, sectors=8, state="bpf",
                io_flags=("ACTIVE",), desc=UblkDesc(op="READ", flags=0, sector=8192, sectors=8),
                bpf_ref=1)
    return UblkDevice(dev_id=3, state="LIVE", server_pid=99, flags=1 << 40, nr_queues=1,
                      depth=4, max_io_bytes=1 << 19, disk="ublkb3", size_sectors=32768,
                      ub_state=("OPEN", "USED"), queues=(), inflight=(io,), bpf=bpf)


def test_ublk_dump_shows_the_bpf_ops_counters_ios_and_aios() -> None:
    from dataclasses import replace

    from harness.drgn_helpers.ublk import dump

    dev = _ublk_bpf_device()
    lines = dump(dev)
    assert lines[0].endswith("flags BPF char OPEN,USED")
    assert ("  bpf ops 3: struct_ops map 12 'loop_ops' INUSE,"
            " queue_io_cmd=loop_queue_io_c (prog 40)") in lines
    assert ("  bpf counters: handled 7 redirected 0 split 0 errors 0 timeouts 0"
            " handed_back 0 aio_submitted 9 aio_completed 7 aio_wq 9 aio_errors 0") in lines
    assert ("  bpf aio ops 3: struct_ops map 13 'loop_aio_ops' INUSE,"
            " bpf_aio_complete_cb=loop_aio_done (prog 41); files /dev/ublkb2; 2 in flight") \
        in lines
    assert ("  aio 0xa0: FS_READ file 0 pos 4194304 bytes 4096 running (pid 55)"
            " io q 0 tag 2") in lines
    # a failed submit: no file, detached from its I/O, only the completion left
    assert "  aio 0xb0: FS_READ file None pos 0 bytes 0 queued detached done -9" in lines
    assert "  io q 0 tag 2: READ sector 8192 sectors 8 bpf (ACTIVE) ref 1 err 0" in lines
    assert dev.bpf is not None and dev.bpf.attached
    # detached ops, a device without bpf aio
    bare = replace(dev.bpf, ops=None, aio_ops_id=None, aio_ops=None, files=(), aios=())
    lines = dump(replace(dev, bpf=bare, inflight=()))
    assert "  bpf ops 3: detached" in lines and not bare.attached
    # ejected: the ops still there until the work detaches them, not attached
    ejected = replace(dev.bpf, exit_reason="ejected by BPF: marker")
    assert not ejected.attached
    assert [line for line in dump(replace(dev, bpf=ejected))
            if line.startswith("  bpf ops 3: struct_ops map 12 ")
            and line.endswith("; exit: ejected by BPF: marker")]
    assert not [line for line in lines if "aio" in line.split(":")[0]]


def test_ublk_aio_walk_is_tried_again_when_the_lists_changed(monkeypatch) -> None:
    from types import SimpleNamespace

    from drgn import FaultError

    from harness.drgn_helpers import ublk

    prog = SimpleNamespace(variable=lambda name, source: 1,
                           function=lambda name, source: SimpleNamespace(address_=0xf0))
    outcomes: list = [FaultError("address is not mapped", 0x50), ValueError("long"), ["aio"]]

    def once(wq, work_fn):
        assert work_fn == 0xf0
        out = outcomes.pop(0)
        if isinstance(out, Exception):
            raise out
        return out

    monkeypatch.setattr(ublk, "_aio_works_once", once)
    assert ublk.bpf_aio_works(prog) == ["aio"] and not outcomes
    # a walk that never reads a consistent state says so
    monkeypatch.setattr(ublk, "_aio_works_once",
                        lambda wq, fn: (_ for _ in ()).throw(FaultError("gone", 0x8)))
    with pytest.raises(FaultError):
        ublk.bpf_aio_works(prog)
