"""drgn helpers for the state this project adds to the kernel.

Each helper takes a :class:`drgn.Program` (the running kernel, from
/proc/kcore, with the built vmlinux's DWARF) and returns plain Python values,
so tests can compare them with what /sys and debugfs say.
"""
