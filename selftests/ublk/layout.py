# SPDX-License-Identifier: GPL-2.0
"""Check where the bytes of a stripe or concat device are, in its backing files.

    layout.py compare LAYOUT DEV FILE... [-- LAYOUT DEV FILE...]...
        each DEV, read with O_DIRECT in 512 KiB I/Os, equals its FILEs laid
        out as LAYOUT says; every line printed starts with "# DEV: ", the last one of a
        device is "# DEV: layout ok" or "# DEV: MISMATCH"
    layout.py assemble LAYOUT OUT FILE...
        the device image the FILEs make as LAYOUT says, written to OUT
        (without a device: what a device over them reads, or read before)
    layout.py roundtrip LAYOUT DEV FILE... [--bounds OFF,...]
        random bytes written to DEV with O_DIRECT are found in the FILEs
        where LAYOUT says; other random bytes written into the FILEs as
        LAYOUT says are what DEV reads; with --bounds, some I/O crosses
        each device offset OFF (file ends)

LAYOUT is ``stripe:CHUNK`` (chunk i of the device is chunk i // N of file
i % N, N files, the same number of whole chunks in each: those of the
smallest file) or ``concat:BS`` (the files one after the other, each its size
rounded down to BS bytes).  roundtrip reads and writes the device in I/Os
of sizes that put their ends everywhere relative to chunks and file ends.
Exit status 0 when everything matches, 1 with the first difference (device
offset, file, file offset) otherwise.
"""

from __future__ import annotations

import mmap
import os
import sys

# I/O sizes cycled through from offset 0: multiples of 4 KiB that put the
# I/O ends everywhere relative to 64 KiB chunks and to file ends
IO_SIZES = [4096, 12288, 69632, 4096, 135168, 36864, 528384, 8192, 266240, 61440]
CHUNK_MARK = 65536
# compare reads whole devices in I/Os of the server's largest size
WHOLE_IO = 524288


class Mismatch(Exception):
    pass


def pieces(layout: str, sizes: list[int]) -> list[tuple[int, int, int, int]]:
    """(device offset, file index, file offset, length) of every piece."""
    kind, _, arg = layout.partition(":")
    unit = int(arg)
    out = []
    if kind == "stripe":
        per_file = min(s // unit * unit for s in sizes)
        for c in range(per_file // unit * len(sizes)):
            out.append((c * unit, c % len(sizes), c // len(sizes) * unit, unit))
    elif kind == "concat":
        off = 0
        for i, s in enumerate(sizes):
            used = s // unit * unit
            out.append((off, i, 0, used))
            off += used
    else:
        raise SystemExit(f"layout.py: unknown layout {layout!r} (stripe:CHUNK or concat:BS)")
    return out


def device_ios(size: int, sizes: list[int]) -> list[tuple[int, int]]:
    ios, off, i = [], 0, 0
    while off < size:
        n = min(sizes[i % len(sizes)], size - off)
        ios.append((off, n))
        off += n
        i += 1
    return ios


def first_difference(a: bytes, b: bytes) -> int:
    return next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))


def dev_io(dev: str, data: bytearray, write: bool, bounds: list[int],
           sizes: list[int] = IO_SIZES) -> None:
    """All of ``data`` to the device (or the device into ``data``), in I/Os
    of the ``sizes`` in turn."""
    fd = os.open(dev, (os.O_WRONLY if write else os.O_RDONLY) | os.O_DIRECT)
    try:
        buf = mmap.mmap(-1, max(sizes))
        crossing, crossed = 0, set()
        ios = device_ios(len(data), sizes)
        for off, n in ios:
            view = memoryview(buf)[:n]
            if write:
                view[:] = data[off:off + n]
                done = os.pwritev(fd, [view], off)
            else:
                done = os.preadv(fd, [view], off)
                data[off:off + n] = view
            view.release()
            if done != n:
                raise Mismatch(f"{dev}: {'write' if write else 'read'} of {n} bytes at {off}: "
                               f"{done} done")
            if off // CHUNK_MARK != (off + n - 1) // CHUNK_MARK:
                crossing += 1
            crossed |= {b for b in bounds if off < b < off + n}
        print(f"# {dev}: {len(data)} bytes {'written' if write else 'read'} in {len(ios)} I/Os, "
              f"{crossing} crossing a 64 KiB boundary")
        for b in bounds:
            if b not in crossed:
                raise Mismatch(f"{dev}: no I/O crosses device offset {b}")
        if bounds:
            print(f"# {dev}: I/Os cross device offsets {', '.join(map(str, bounds))}")
    finally:
        os.close(fd)


def files_io(layout: str, data: bytes, files: list[str], write: bool, dev: str) -> None:
    """``data`` into the files as the layout says, or compared with them."""
    table = pieces(layout, [os.stat(f).st_size for f in files])
    handles = [open(f, "r+b" if write else "rb") for f in files]
    try:
        for dev_off, idx, file_off, n in table:
            want = data[dev_off:dev_off + n]
            fh = handles[idx]
            fh.seek(file_off)
            if write:
                fh.write(want)
                continue
            got = fh.read(n)
            if got != want:
                bad = first_difference(got, want)
                raise Mismatch(f"device byte {dev_off + bad} should be byte {file_off + bad} of "
                               f"{files[idx]}, which differs")
    finally:
        for fh in handles:
            fh.close()
    print(f"# {dev}: {len(table)} pieces of {layout} {'written into' if write else 'found in'} "
          f"{len(files)} files")


def device_size(layout: str, files: list[str]) -> int:
    return sum(p[3] for p in pieces(layout, [os.stat(f).st_size for f in files]))


def compare(layout: str, dev: str, files: list[str]) -> None:
    size = device_size(layout, files)
    with open(dev, "rb") as f:
        dev_size = f.seek(0, os.SEEK_END)
    if dev_size != size:
        raise Mismatch(f"{dev} has {dev_size} bytes, {layout} over the files {size}")
    data = bytearray(size)
    dev_io(dev, data, False, [], [WHOLE_IO])
    files_io(layout, bytes(data), files, False, dev)


def roundtrip(layout: str, dev: str, files: list[str], bounds: list[int]) -> None:
    size = device_size(layout, files)
    first = bytearray(os.urandom(size))
    dev_io(dev, first, True, bounds)
    files_io(layout, bytes(first), files, False, dev)
    second = os.urandom(size)
    files_io(layout, second, files, True, dev)
    back = bytearray(size)
    dev_io(dev, back, False, bounds)
    if back != second:
        raise Mismatch(f"{dev}: byte {first_difference(back, second)} read differs from its "
                       f"file")
    print(f"# {dev}: the files' bytes read back through the device")


def assemble(layout: str, out: str, files: list[str]) -> None:
    table = pieces(layout, [os.stat(f).st_size for f in files])
    handles = [open(f, "rb") for f in files]
    try:
        with open(out, "wb") as fh:
            for dev_off, idx, file_off, n in table:
                handles[idx].seek(file_off)
                fh.seek(dev_off)
                fh.write(handles[idx].read(n))
            fh.truncate(sum(p[3] for p in table))
    finally:
        for h in handles:
            h.close()
    print(f"# {out}: {len(table)} pieces of {layout} from {len(files)} files")


def groups(args: list[str]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for arg in args:
        if arg == "--":
            out.append([])
        else:
            out[-1].append(arg)
    return [g for g in out if g]


def main(argv: list[str]) -> int:
    bounds: list[int] = []
    if "--bounds" in argv:
        i = argv.index("--bounds")
        bounds = [int(b) for b in argv[i + 1].split(",")]
        del argv[i:i + 2]
    if argv and argv[0] == "compare":
        rc = 0
        for group in groups(argv[1:]):
            if len(group) < 3:
                print(__doc__, file=sys.stderr)
                return 2
            try:
                compare(group[0], group[1], group[2:])
                print(f"# {group[1]}: layout ok")
            except (Mismatch, OSError) as e:
                print(f"# {group[1]}: {e}")
                print(f"# {group[1]}: MISMATCH")
                rc = 1
        return rc
    if len(argv) >= 4 and argv[0] == "assemble":
        assemble(argv[1], argv[2], argv[3:])
        return 0
    if len(argv) < 4 or argv[0] != "roundtrip":
        print(__doc__, file=sys.stderr)
        return 2
    try:
        roundtrip(argv[1], argv[2], argv[3:], bounds)
    except (Mismatch, OSError) as e:
        print(f"# {argv[2]}: {e}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
