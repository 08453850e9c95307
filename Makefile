# edu-rng: an RNG PCI device for QEMU, its Linux hwrng driver, tools, tests.
#
#   make run     boot a guest whose /dev/hwrng is served by edu-rng (does
#                all set-up: apt packages, QEMU from Debian's source, guest
#                kernel, initramfs)
#   make check   build what is missing and run every test suite
#   make lint    static checks only
#   make help    all targets
#
# Expensive outputs (QEMU source and build, guest kernel, initramfs) are
# cached in $(EDU_RNG_CACHE) (default ~/.cache/edu-rng), keyed by their
# inputs.  KVER selects the guest kernel (default: the newest installed
# linux-headers-*-amd64).

SHELL := /bin/bash

all: module qemu selftests

help:
	@sed -n '/^#   make/p' Makefile | sed 's/^# *//'
	@echo "  make deps      install missing Debian packages"
	@echo "  make module    build drivers/edu-rng.ko"
	@echo "  make qemu      build qemu-system-x86_64 with edu-rng"
	@echo "  make kernel    fetch the guest kernel"
	@echo "  make selftests build the guest test programs"
	@echo "  make clean     remove build outputs (not the cache)"

deps:
	scripts/deps.sh

module: deps
	$(MAKE) -C drivers

qemu: deps
	qemu/build-qemu.sh --print-path

kernel: deps
	guest/fetch-kernel.sh --print-path

selftests: deps
	$(MAKE) -C selftests OUTPUT=$(CURDIR)/build/selftests \
		KSFT_INC=$$(scripts/linux-source.sh)/tools/testing/selftests

run: module qemu kernel
	qemu/run-vm

check:
	scripts/check.sh

lint:
	scripts/lint.sh

clean:
	$(MAKE) -C drivers clean
	rm -rf build

.PHONY: all help deps module qemu kernel selftests run check lint clean
