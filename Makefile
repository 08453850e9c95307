# edu-rng: an RNG PCI device for QEMU, its Linux hwrng driver, tools, tests.
#
#   make run     boot a guest whose /dev/hwrng is served by edu-rng, with
#                rngd, edu-rng and lab-rng (does all set-up: apt packages,
#                QEMU from Debian's source, guest kernel, initramfs, tools)
#                GUEST=debian: a Debian 12 guest (systemd, udev, rngd.service)
#                with edu-rng's packages, the module built by DKMS in it
#   make check   build what is missing and run every test suite
#   make lint    static checks only
#   make bench   measure edu-rng against the guest's other random sources
#   make install install module, udev rule, docs, CLI; DESTDIR, PREFIX
#   make dkms-install  register the module with DKMS (make dkms-remove)
#   make deb     Debian packages edu-rng-dkms, edu-rng-tools in build/deb/
#   make patches the upstream patch series (git format-patch) in
#                build/patches/<series>/: qemu (the device), linux (the
#                driver)
#   make help    all targets
#
# Expensive outputs (QEMU source and build, guest kernel, initramfs) are
# cached in $(EDU_RNG_CACHE) (default ~/.cache/edu-rng), keyed by their
# inputs.  KVER selects the kernel the module is built for and the guest
# boots: a release (6.1.0-56-amd64, 6.12.117+deb12-amd64) or a series
# (6.12: its newest release in apt's sources); default: Debian's default
# kernel, the one linux-headers-amd64 depends on.

SHELL := /bin/bash
PREFIX ?= /usr/local
UDEVDIR ?= /etc/udev/rules.d
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
# A series (KVER=6.12) is resolved once, here, for all the scripts; the
# sub-makes they run get the release from the environment, not KVER=6.12
# from the command line.
ifneq ($(KVER),)
ifeq ($(findstring -,$(KVER)),)
override KVER := $(shell scripts/kver.sh $(KVER))
endif
export KVER
endif
MAKEOVERRIDES := $(filter-out KVER=%,$(MAKEOVERRIDES))

all: module qemu selftests user

help:
	@sed -n '/^#   make/p' Makefile | sed 's/^# *//'
	@echo "  make run GUEST=debian  the Debian 12 guest, the packages installed"
	@echo "  make deps      install missing Debian packages"
	@echo "  make module    build drivers/edu-rng.ko"
	@echo "  make qemu      build qemu-system-x86_64 with edu-rng"
	@echo "  make kernel    fetch the guest kernel"
	@echo "  make selftests build the guest test programs"
	@echo "  make user      build the CLI edu-rng and lab-rng into build/user"
	@echo "  make uninstall undo make install (same DESTDIR, PREFIX)"
	@echo "  make dkms-remove  remove the module from DKMS"
	@echo "  make version   print the version (dkms.conf)"
	@echo "  make clean     remove build outputs (not the cache)"

deps:
	scripts/deps.sh

module: deps
	scripts/module.sh

qemu: deps
	qemu/build-qemu.sh --print-path

kernel: deps
	guest/fetch-kernel.sh --print-path

selftests: deps
	$(MAKE) -C selftests OUTPUT=$(CURDIR)/build/selftests \
		KSFT_INC=$$(scripts/linux-source.sh)/tools/testing/selftests

# the CLI and the lab's program, static: they run on the host and the guest
# (libc6-dev: libc.a)
user:
	scripts/deps.sh gcc make libc6-dev
	$(MAKE) -C user OUTPUT=$(CURDIR)/build/user STATIC=1

# GUEST=busybox (default): the initramfs guest; GUEST=debian: Debian 12
# with the packages of make deb (guest/run-debian.sh)
GUEST ?= busybox
ifeq ($(GUEST),debian)
run: qemu
	guest/run-debian.sh
else ifeq ($(GUEST),busybox)
run: module qemu kernel user
	qemu/run-vm
else
run:
	@echo "GUEST=$(GUEST): want busybox or debian" >&2; exit 2
endif

check:
	scripts/check.sh

lint:
	scripts/lint.sh

# Throughput and costs of edu-rng beside the guest's other random sources
# (not part of check): build/bench/results.md, results.json, throughput.png,
# scaling.png
bench:
	bench/bench.sh

install: module user
	DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' UDEVDIR='$(UDEVDIR)' scripts/install.sh install

uninstall:
	DESTDIR='$(DESTDIR)' PREFIX='$(PREFIX)' UDEVDIR='$(UDEVDIR)' scripts/install.sh uninstall

dkms-install:
	scripts/dkms.sh install

dkms-remove:
	scripts/dkms.sh remove

# edu-rng-dkms and edu-rng-tools, from debian/ in a copy of the tree
deb:
	scripts/deb.sh

# build/patches/qemu/: the device for upstream QEMU, against the newest
# QEMU source build-qemu.sh fetches; build/patches/linux/: the driver for
# Linux, against linux-source-7.2 (Documentation/upstream.rst)
patches: deps
	scripts/patches.sh

version:
	@echo $(VERSION)

clean:
	$(MAKE) -C drivers clean
	rm -rf build

.PHONY: all help deps module qemu kernel selftests user run check lint bench install \
	uninstall dkms-install dkms-remove deb patches version clean
