"""Build, boot and test the UFQ / ublk-bpf / BPF io_uring kernel series.

The package is split by job: :mod:`harness.layout` knows where things live,
:mod:`harness.series` reads kernel-patches/series, :mod:`harness.tree`
assembles a kernel tree, :mod:`harness.kconfig` merges and checks config
fragments, :mod:`harness.kbuild` builds the kernel and the BPF tool chain,
:mod:`harness.vm` boots guests, :mod:`harness.console` scans their console
for splats, :mod:`harness.ktap` parses kselftest output, and
:mod:`harness.workloads`, :mod:`harness.bench` and :mod:`harness.submission`
build on those.
"""
