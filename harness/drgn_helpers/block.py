"""Block devices and their queue's elevator, as the kernel sees them.

Run as a drgn script it prints one ``disk<TAB>elevator`` line per disk::

    drgn -k -s build/obj/vmlinux --main-symbols harness/drgn_helpers/block.py
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from drgn import Object, Program


@dataclass(frozen=True)
class DiskElevator:
    disk: str
    elevator: str  # "none" when the queue has no elevator
    queue_address: int


def queue_elevator_name(queue: "Object") -> str:
    """Name of the elevator attached to a ``struct request_queue *``, or "none"."""
    elevator = queue.elevator
    if not elevator:
        return "none"
    return elevator.type.elevator_name.string_().decode()


def for_each_disk_elevator(prog: "Program") -> Iterator[DiskElevator]:
    """Every registered gendisk with its queue's elevator name."""
    from drgn.helpers.linux.block import disk_name, for_each_disk

    for disk in for_each_disk(prog):
        queue = disk.queue
        yield DiskElevator(disk=disk_name(disk).decode(), elevator=queue_elevator_name(queue),
                           queue_address=queue.value_())


def sysfs_elevator(disk: str) -> str:
    """The elevator /sys/block/DISK/queue/scheduler shows as selected."""
    with open(f"/sys/block/{disk}/queue/scheduler") as fh:
        text = fh.read().strip()
    if "[" not in text:
        return text or "none"
    return text.split("[", 1)[1].split("]", 1)[0]


def main(prog: "Program") -> None:
    for entry in for_each_disk_elevator(prog):
        print(f"{entry.disk}\t{entry.elevator}")


if __name__ == "__main__":
    main(prog)  # type: ignore[name-defined]  # noqa: F821 (drgn's script global)
