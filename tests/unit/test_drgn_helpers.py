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
