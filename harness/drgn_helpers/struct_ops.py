"""The BPF struct_ops map behind a kernel ops structure.

A subsystem that accepts BPF struct_ops (UFQ's ``struct ufq_iosched_ops``,
io_uring's ``struct io_uring_bpf_ops``) keeps a pointer to the kernel's copy
of the ops, which lives in the ``kvalue.data`` of a ``struct
bpf_struct_ops_map`` (kernel/bpf/bpf_struct_ops.c).  From that pointer these
helpers find the map, its id and name (what ``bpftool map`` shows), and the
BPF program behind each function member.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from drgn import Object

# bpf_prog_aux->name holds BPF_OBJ_NAME_LEN (16) bytes with the NUL: longer
# program names are cut to their first 15 characters, as bpftool shows them
# without BTF.
BPF_NAME_MAX = 15


@dataclass(frozen=True)
class StructOpsMap:
    """A struct_ops map as seen from the ops it registered."""

    address: int  # struct bpf_struct_ops_map *
    map_id: int
    map_name: str
    state: str  # enum bpf_struct_ops_state without its prefix: INIT, INUSE, TOBEFREE, READY
    programs: dict[str, str]  # ops member name -> BPF program name (BPF_NAME_MAX chars at most)


def enum_name(value: "Object", prefix: str = "") -> str:
    """The enumerator name of an enum-typed object, without ``prefix``.

    A value that names no enumerator is returned as a decimal number.
    """
    number = value.value_()
    for name, enum_value in value.type_.unaliased().enumerators or ():
        if enum_value == number:
            return name[len(prefix):] if name.startswith(prefix) else name
    return str(number)


def c_string(array: "Object") -> str:
    """A NUL-terminated ``char[]`` member as str (undecodable bytes escaped)."""
    return array.string_().decode(errors="backslashreplace")


def struct_ops_map(ops: "Object") -> "Object":
    """The ``struct bpf_struct_ops_map *`` whose kernel value is ``*ops``.

    ``ops`` must point into the ``kvalue.data`` of a struct_ops map, as
    every ops pointer a subsystem got through its ``reg`` callback does.
    """
    from drgn import cast, container_of

    data = cast("void *", ops)
    value = container_of(data, "struct bpf_struct_ops_value", "data")
    return container_of(value, "struct bpf_struct_ops_map", "kvalue")


def linked_programs(st_map: "Object", ops_type_name: str) -> Iterator[tuple[str, "Object"]]:
    """(member name, ``struct bpf_prog *``) of every linked function member.

    The map keeps one link per program in ``links[]``; each program's
    ``expected_attach_type`` is the index of the member it implements in
    ``ops_type_name`` (e.g. ``"struct ufq_iosched_ops"``).
    """
    members = st_map.prog_.type(ops_type_name).members or ()
    for i in range(st_map.funcs_cnt.value_()):
        link = st_map.links[i]
        if not link:
            continue
        bpf_prog = link.prog
        index = bpf_prog.expected_attach_type.value_()
        member = members[index].name if index < len(members) else None
        yield member or f"#{index}", bpf_prog


def struct_ops_programs(st_map: "Object", ops_type_name: str) -> dict[str, str]:
    """Member name -> BPF program name for every linked function member.

    Program (and map) names are the kernel's copies, cut to BPF_NAME_MAX.
    """
    return {member: c_string(bpf_prog.aux.name)
            for member, bpf_prog in linked_programs(st_map, ops_type_name)}


def struct_ops_program_ids(st_map: "Object", ops_type_name: str) -> dict[str, int]:
    """Member name -> BPF program id (what ``bpftool prog`` shows) for every
    linked function member."""
    return {member: bpf_prog.aux.id.value_()
            for member, bpf_prog in linked_programs(st_map, ops_type_name)}


def describe_struct_ops(ops: "Object", ops_type_name: str) -> StructOpsMap:
    """The map, its state and programs behind the kernel ops ``ops``."""
    st_map = struct_ops_map(ops)
    return StructOpsMap(
        address=st_map.value_(),
        map_id=st_map.map.id.value_(),
        map_name=c_string(st_map.map.name),
        state=enum_name(st_map.kvalue.common.state, "BPF_STRUCT_OPS_STATE_"),
        programs=struct_ops_programs(st_map, ops_type_name),
    )
