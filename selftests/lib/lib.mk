# SPDX-License-Identifier: GPL-2.0
# Shared rules for the guest-side selftests, included by each
# selftests/<area>/Makefile.  The harness invokes
#
#   make -C selftests/<area> OUTPUT=<dir> KSRC=<tree> KBUILD_OUTPUT=<obj> TOOLS=<dir>
#
# OUTPUT        where everything built goes (visible at the same path in the guest)
# KSRC          the assembled kernel source tree
# KBUILD_OUTPUT the kernel object directory (vmlinux, Module.symvers)
# TOOLS         libbpf (libbpf/libbpf.a, include/bpf/*.h), bpftool (sbin/bpftool)
#               and include/vmlinux.h generated from the built kernel's BTF
#
# An area lists its programs in TEST_GEN_PROGS (user space C, linked with
# libbpf; a BPF object FOO.bpf.c next to FOO.c gets a skeleton FOO.skel.h)
# and its kernel modules in TEST_GEN_MODS (FOO.c -> FOO.ko).

CLANG ?= clang-19
LLVM_STRIP ?= llvm-strip-19
CC ?= gcc
BPFTOOL := $(TOOLS)/sbin/bpftool
LIBBPF_A := $(TOOLS)/libbpf/libbpf.a

KSFT_INC := $(KSRC)/tools/testing/selftests
LIB_DIR := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 \
	      -I$(TOOLS)/include -I$(LIB_DIR) -I$(CURDIR) \
	      -Wall -Wno-compare-distinct-pointer-types
CFLAGS := -g -O2 -Wall -Werror -I$(OUTPUT) -I$(TOOLS)/include \
	  -I$(KSRC)/tools/include/uapi -I$(KSFT_INC) -I$(LIB_DIR) -I$(CURDIR)
LDLIBS := $(LIBBPF_A) -lelf -lz -lpthread

BPF_SRCS := $(wildcard *.bpf.c)
BPF_OBJS := $(patsubst %.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
BPF_SKELS := $(patsubst %.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
PROGS := $(addprefix $(OUTPUT)/,$(TEST_GEN_PROGS))
MODS := $(addprefix $(OUTPUT)/,$(addsuffix .ko,$(TEST_GEN_MODS)))

all: $(BPF_OBJS) $(BPF_SKELS) $(PROGS) $(MODS)

$(OUTPUT):
	mkdir -p $@

$(OUTPUT)/%.bpf.o: %.bpf.c $(wildcard *.h) $(TOOLS)/include/vmlinux.h | $(OUTPUT)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*) > $@

$(OUTPUT)/%: %.c $(BPF_SKELS) $(wildcard *.h) | $(OUTPUT)
	$(CC) $(CFLAGS) $< -o $@ $(LDLIBS)

# Kernel modules are built from a copy: 6.12 builds external modules in
# their source directory, and the repository stays clean.  A module's BTF
# is split BTF on the vmlinux it was built against, which refuses it
# ("failed to validate module BTF") after any relink: rebuild it then.
$(OUTPUT)/%.ko: %.c $(KBUILD_OUTPUT)/vmlinux | $(OUTPUT)
	mkdir -p $(OUTPUT)/mod-$*
	cp $< $(OUTPUT)/mod-$*/
	echo 'obj-m := $*.o' > $(OUTPUT)/mod-$*/Kbuild
	$(MAKE) -C $(KBUILD_OUTPUT) M=$(OUTPUT)/mod-$* modules
	cp $(OUTPUT)/mod-$*/$*.ko $@

clean:
	rm -rf $(OUTPUT)

.PHONY: all clean
.SECONDARY:
