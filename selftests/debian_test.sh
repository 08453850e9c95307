#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest side of guest-debian (selftests/debian_host.sh): edu-rng as a
# Debian 12 user meets it, on the guest of guest/build-debian.sh (systemd,
# udev, rng-tools5, DKMS), in two boots of one disk.  Runs as the payload
# (cwd /exec: this script, tap.sh, edu-rng-stream, the two .deb files and
# the file phase):
#   install  (first boot) apt installs ./edu-rng-dkms_*.deb and
#            ./edu-rng-tools_*.deb offline: DKMS builds the module for the
#            running kernel; the list of the root's files is kept first
#   check    (the boot after) udev loaded edu-rng by modalias, rng_current,
#            rngd.service reading /dev/hwrng, systemd running, a journal
#            without warnings of ours; seeding, edu-rng info/read/bench,
#            lab-rng; apt purge leaves no file behind
# TAP numbers go on from the file tap-start (the first boot's count).
cd "$(dirname "$0")" || exit 1
. ./tap.sh
n=$(cat tap-start 2>/dev/null || echo 0)
PHASE=$(cat phase)
KVER=$(uname -r)
HWRNG=/sys/class/misc/hw_random
BASELINE=/var/tmp/edu-rng-test.files
T=$(mktemp -d)
export DEBIAN_FRONTEND=noninteractive

# the output of a failing step, as TAP comments
show() {
	sed 's/^/# /' "$T/out" | tail -n 30
}

# Every file of the root but the package manager's state, logs, caches
# and runtime state: what the packages may add, and must take away.
files() {
	find / -xdev \( -path /proc -o -path /sys -o -path /dev -o -path /run -o -path /tmp \
		-o -path /var/tmp -o -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/cache \
		-o -path /var/log -o -path /var/lib/systemd -o -path /exec \) -prune -o -print |
		LC_ALL=C sort
}

# ---- first boot
apt_install() {
	t0=$(now)
	files >"$BASELINE"
	echo "# the root's file list: $(($(now) - t0)) s"
	if ! apt-get install -y --no-install-recommends ./edu-rng-dkms_*.deb \
		./edu-rng-tools_*.deb >"$T/out" 2>&1; then
		show
		return 1
	fi
	st=$(dkms status -m edu-rng 2>&1)
	echo "# dkms status: $st"
	case $st in
	*", $KVER, x86_64: installed"*) ;;
	*) show; return 1 ;;
	esac
	ko=$(find "/lib/modules/$KVER/updates/dkms" -name 'edu-rng.ko*' | head -n1)
	[ -n "$ko" ] || { echo "# no edu-rng.ko in /lib/modules/$KVER/updates/dkms"; return 1; }
	v=$(modinfo -F vermagic "$ko" | cut -d' ' -f1)
	[ "$v" = "$KVER" ] || { echo "# $ko: vermagic $v"; return 1; }
	# nobody loaded it: that is the next boot's udev's job
	[ ! -e /sys/module/edu_rng ] || { echo "# edu_rng loaded already"; return 1; }
	command -v edu-rng >/dev/null && command -v lab-rng >/dev/null
}

# ---- the boot after
BDF=
by_modalias() {
	BDF=$(bdf) || { echo "# no 1234:cafe PCI device"; return 1; }
	alias=$(cat "/sys/bus/pci/devices/$BDF/modalias")
	[ "$(modprobe --resolve-alias "$alias")" = edu_rng ] ||
		{ echo "# $alias resolves to '$(modprobe --resolve-alias "$alias")'"; return 1; }
	[ -e /sys/module/edu_rng ] || { echo "# edu_rng not loaded"; return 1; }
	drv=$(readlink "/sys/bus/pci/devices/$BDF/driver")
	[ "${drv##*/}" = edu-rng ] || { echo "# $BDF bound to '${drv##*/}'"; return 1; }
	# the module the kernel loaded is DKMS's
	[ "$(modinfo -n edu_rng)" = "$(find "/lib/modules/$KVER/updates/dkms" -name 'edu-rng.ko*')" ]
}

# the packaged rule's rights, applied by udev
node_mode() {
	st=$(stat -c '%a %U:%G' /dev/edu-rng0) || return 1
	[ "$st" = "444 root:root" ] || { echo "# /dev/edu-rng0: $st"; return 1; }
}

rng_current() {
	cur=$(cat $HWRNG/rng_current)
	echo "# rng_current: $cur (available: $(cat $HWRNG/rng_available))"
	[ "$cur" = "edu-rng-$BDF" ]
}

rngd_reads_hwrng() {
	if ! systemctl is-active --quiet rngd.service; then
		systemctl --no-pager status rngd.service | show_stdin
		# the driver's own count of what went wrong
		grep -H . "/sys/bus/pci/devices/$BDF/stats/"* 2>/dev/null | sed 's/^/# /'
		return 1
	fi
	pid=$(systemctl show -P MainPID rngd.service)
	[ "$pid" -gt 0 ] || return 1
	echo "# rngd: pid $pid, $(tr '\0' ' ' <"/proc/$pid/cmdline")"
	for fd in "/proc/$pid/fd/"*; do
		[ "$(readlink "$fd")" != /dev/hwrng ] || return 0
	done
	echo "# rngd has no /dev/hwrng open:"
	for fd in "/proc/$pid/fd/"*; do
		echo "#   ${fd##*/} -> $(readlink "$fd")"
	done
	return 1
}

show_stdin() {
	sed 's/^/# /' | tail -n 30
}

system_running() {
	st=$(systemctl is-system-running --wait)
	[ "$st" = running ] && return 0
	echo "# is-system-running: $st"
	systemctl --failed --no-legend | show_stdin
	return 1
}

# Warnings and worse of this boot from edu-rng (messages naming it: the
# kernel's, udev's) or from rngd (its unit).  Under systemd (-f) rngd
# writes its complaints to stderr, which the journal keeps as info: they
# are shown.  The kernel's
# "loading out-of-tree module taints kernel", said of every module DKMS
# builds, is left out (as a comment), nothing else.
TAINT='^edu_rng: loading out-of-tree module taints kernel\.$'
journal_clean() {
	journalctl -b -p warning -o cat --no-pager >"$T/journal" 2>&1 || { cp "$T/journal" "$T/out"; show; return 1; }
	! grep -qE "$TAINT" "$T/journal" || echo "# left out: $(grep -E "$TAINT" "$T/journal")"
	{
		grep -iE 'edu.rng|hwrng|hw_random' "$T/journal" | grep -vE "$TAINT"
		journalctl -b -p warning -o cat --no-pager -u rngd.service
	} >"$T/out" 2>&1
	# an rngd that started before the device (then started again by the
	# rule): its stderr is info, shown, not counted
	journalctl -b -o cat --no-pager -u rngd.service |
		grep -iE 'error|fail|unable|cannot|exiting' | sort | uniq -c | sed 's/^/# rngd (info): /'
	[ ! -s "$T/out" ] || { show; return 1; }
}

seeded_stream() {
	echo 42 >"/sys/bus/pci/devices/$BDF/seed" || return 1
	[ "$(cat "/sys/bus/pci/devices/$BDF/mode")" = seeded ] || return 1
	edu-rng read -f raw -n 65536 >"$T/got" || return 1
	./edu-rng-stream 42 65536 >"$T/ref" || return 1
	cmp "$T/got" "$T/ref" >"$T/out" 2>&1 || { show; return 1; }
	# and again, from its start
	echo 42 >"/sys/bus/pci/devices/$BDF/seed" &&
		edu-rng read -f raw -n 4096 | cmp - "$T/ref" -n 4096
}

# back to host entropy: the hwrng core takes it again
host_mode() {
	echo host >"/sys/bus/pci/devices/$BDF/mode" &&
		poll 10 grep -qx "edu-rng-$BDF" $HWRNG/rng_current
}

cli_info() {
	if edu-rng info >"$T/out" 2>&1 && grep -qx "edu-rng $BDF" "$T/out" &&
		grep -qx "  driver: *edu-rng" "$T/out" && grep -qx "  mode: *host" "$T/out" &&
		grep -qx "  hwrng: *edu-rng-$BDF (current)" "$T/out"; then
		return 0
	fi
	show
	return 1
}

cli_read() {
	if ! edu-rng read >"$T/out" 2>&1 || ! grep -qxE '[0-9a-f]{32}' "$T/out"; then
		show
		return 1
	fi
	[ "$(edu-rng read -f raw -n 65537 | wc -c)" -eq 65537 ]
}

cli_bench() {
	edu-rng bench -n 1M >"$T/out" 2>&1 || { show; return 1; }
	sed 's/^/# /' "$T/out" | head -n 5
}

lab() {
	lab-rng -s 42 -n 16 >"$T/out" 2>&1 || { show; return 1; }
	./edu-rng-stream 42 64 | od -An -v -tu4 -w4 | tr -d ' ' >"$T/ref"
	diff "$T/ref" "$T/out" >"$T/diff" || { sed 's/^/# /' "$T/diff"; return 1; }
}

# The rule's SYSTEMD_WANTS: rngd stopped, the device removed and found
# again by a rescan; the new /dev/edu-rng0 gets rngd.service started.
rngd_by_rule() {
	systemctl stop rngd.service || return 1
	echo 1 >"/sys/bus/pci/devices/$BDF/remove" || return 1
	echo 1 >/sys/bus/pci/rescan || return 1
	poll 60 test -e /dev/edu-rng0 || { echo "# no /dev/edu-rng0 after the rescan"; return 1; }
	poll 60 systemctl is-active --quiet rngd.service ||
		{ echo "# rngd.service: $(systemctl is-active rngd.service)"; return 1; }
	rngd_reads_hwrng
}

purge() {
	if ! apt-get purge -y edu-rng-dkms edu-rng-tools >"$T/out" 2>&1; then
		show
		return 1
	fi
	for p in edu-rng-dkms edu-rng-tools; do
		st=$(dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null) || st=
		case $st in '' | un* | pn*) ;; *) echo "# $p: '$st' after purge"; return 1 ;; esac
	done
	st=$(dkms status -m edu-rng 2>&1)
	[ -z "$st" ] || { echo "# dkms status: $st"; return 1; }
	for f in /usr/bin/edu-rng /usr/bin/lab-rng /lib/udev/rules.d/60-edu-rng.rules; do
		[ ! -e "$f" ] || { echo "# $f left"; return 1; }
	done
	ko=$(find /lib/modules -name 'edu-rng.ko*')
	[ -z "$ko" ] || { echo "# left: $ko"; return 1; }
	# dkms's signing key, made at its first build, is dkms's
	files | diff "$BASELINE" - | grep '^[<>]' |
		grep -vE '^> /var/lib/dkms(/mok\.(key|pub))?$' >"$T/out" || true
	[ ! -s "$T/out" ] || { echo "# changed since before the install:"; show; return 1; }
}

# check, and how long it took
step() {
	t0=$(now)
	check "$@"
	echo "# $(($(now) - t0)) s"
}

echo "TAP version 13"
echo "# $PHASE: payload starts $(now) s after the kernel"
systemd-analyze blame --no-pager 2>/dev/null | head -n 6 | sed 's/^ */#   /'
case $PHASE in
install)
	step "apt install ./edu-rng-dkms_*.deb ./edu-rng-tools_*.deb (offline): DKMS builds edu-rng for $KVER" \
		apt_install
	;;
check)
	step "after reboot udev loaded edu-rng by its modalias (no modprobe), bound to the device" \
		by_modalias
	step "udev's rule from edu-rng-tools: /dev/edu-rng0 is 0444 root:root" node_mode
	step "rng_current is edu-rng-$BDF" rng_current
	step "rng-tools5's rngd.service is active and has /dev/hwrng open" rngd_reads_hwrng
	step "systemctl is-system-running: running" system_running
	step "journalctl -b -p warning: nothing from edu-rng or rngd" journal_clean
	step "echo 42 > seed: edu-rng read gives seed 42's stream exactly (64 KiB)" seeded_stream
	step "echo host > mode: edu-rng is rng_current again" host_mode
	step "edu-rng info: the device, its driver, host mode, current hwrng" cli_info
	step "edu-rng read: hex line, 65537 raw bytes" cli_read
	step "edu-rng bench -n 1M" cli_bench
	step "lab-rng -s 42 -n 16: seed 42's stream by the lab's ioctls" lab
	step "rngd stopped, device removed, PCI rescan: the udev rule starts rngd.service, on /dev/hwrng" \
		rngd_by_rule
	step "apt purge edu-rng-dkms edu-rng-tools: no module, no DKMS entry, no tool, no file left" \
		purge
	;;
*)
	not_ok "phase '$PHASE'"
	;;
esac
echo "# $PHASE: payload done $(now) s after the kernel"
tap_done
