# Entry points.  `make run` and `make test` work from a fresh clone on a
# fresh Debian 12 machine (as root): they install what is missing first.
#
#   make deps     apt packages (kernel source, toolchain, clang-19, qemu, fio),
#                 a deb-src entry for bookworm and liburing's source package
#   make venv     .venv with the harness and its Python dependencies
#   make kernel   assemble the tree, build kernel + libbpf + bpftool + selftests
#   make run      the demo: verified workloads on the built kernel
#   make test     the whole pytest suite, unit and VM tests
#   make bench    build the benchmark kernel (build/bench/) if stale, run every
#                 benchmark under the instruction-count clock; fails on a
#                 failed run or a missed goal; results under out/bench/
#   make series   the series as format-patch files, checkpatch --strict

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

APT_PACKAGES := linux-source-6.12 build-essential flex bison bc libelf-dev \
	libssl-dev cpio zstd ccache dwarves clang-19 llvm-19 lld-19 \
	qemu-system-x86 fio busybox-static liburing-dev e2fsprogs kmod rsync \
	patch libcap-dev zlib1g-dev libzstd-dev python3-venv python3-dev git \
	perl util-linux coreutils dpkg-dev linux-perf
# liburing's own tests (the liburing selftest area) come from Debian's source
# package: a deb-src entry for bookworm, written once (harness/liburing.py
# has the same text), then `apt-get source` into ~/.cache/ufq-harness/liburing
DEB_SRC_LIST := /etc/apt/sources.list.d/ufq-harness-deb-src.sources

.PHONY: all deps venv kernel run test unit bench series clean

all: kernel

deps:
	@missing=$$(for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "[make] installing:" $$missing; \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$missing; \
	fi
	@if [ ! -f $(DEB_SRC_LIST) ]; then \
		echo "[make] adding $(DEB_SRC_LIST) (Debian bookworm's source packages)"; \
		$(PYTHON) -c 'import harness.liburing as l; print(l.SOURCES_ENTRY, end="")' | \
			$(SUDO) tee $(DEB_SRC_LIST) > /dev/null && \
		$(SUDO) apt-get update -q; \
	fi
	$(PYTHON) -m harness.liburing fetch

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

kernel: deps venv
	$(PY) -m harness build

run: kernel
	$(PY) -m harness demo

test: kernel
	$(PY) -m pytest

unit: venv
	$(PY) -m pytest -m "not vm and not tree"

# `harness bench` builds the benchmark kernel itself (not the test kernel)
bench: deps venv
	$(PY) -m harness bench

series: deps venv
	$(PY) -m harness series

clean:
	rm -rf build out
