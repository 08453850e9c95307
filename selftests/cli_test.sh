#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The command-line tools against edu-rng in the guest: the lab's lab-rng
# and the edu-rng CLI give the seed's stream, root and non-root rights,
# the CLI's outputs and exit codes with the device missing, unbound, or the
# module unloaded, and with bad arguments.  Run as root, after the other
# selftests; edu-rng, lab-rng and edu-rng-stream (the device's generator,
# for reference) sit beside it.  Output is TAP.
#
# A seeded device is withdrawn from the hwrng core, so nothing but these
# tools reads its stream: a seeded read must be the seed's stream from its
# first byte, in order, with no gap.
set -eu

cd "$(dirname "$0")"
# shellcheck source=tap.sh
. "$(dirname "$0")/tap.sh"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
DRV=/sys/bus/pci/drivers/edu-rng
HWRNG=/sys/class/misc/hw_random
KO=/lib/modules/$(uname -r)/extra/edu-rng.ko
BDF=
for d in "$DRV"/0000:*; do
	[ -e "$d" ] && BDF=${d##*/} && break
done
NODE=
for d in "/sys/bus/pci/devices/$BDF/misc/"edu-rng*; do
	[ -e "$d" ] && NODE=/dev/${d##*/}
done

# run CMD...: stdout to $T/out, stderr to $T/err, status to $rc
run() {
	rc=0
	"$@" >"$T/out" 2>"$T/err" || rc=$?
}

# as_nobody CMD: CMD (a string for sh -c) as user nobody, no capabilities
grep -q '^nobody:' /etc/passwd ||
	echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/sh' >>/etc/passwd
as_nobody() {
	su -s /bin/sh nobody -c "$1"
}

# say what a failed check saw
show() {
	echo "#   status $rc; stdout:"
	head -n 5 "$T/out" | sed 's/^/#     /'
	echo "#   stderr:"
	head -n 5 "$T/err" | sed 's/^/#     /'
}

# exits CODE PATTERN CMD...: CMD exits with CODE and says PATTERN (grep
# -E) on stderr
exits() {
	code=$1 pattern=$2
	shift 2
	run "$@"
	if [ "$rc" -eq "$code" ] && grep -qE "$pattern" "$T/err"; then
		return 0
	fi
	echo "# $*: want status $code and '$pattern'"
	show
	return 1
}

# words u32|hex: stdin's bytes as 4-byte words, one a line: u32 as the
# lab's RAND ioctl returns them, hex as 8 hex digits in byte order
words() {
	case $1 in
	u32) od -An -v -tu4 -w4 | tr -d ' ' ;;
	hex) od -An -v -tx1 -w4 | tr -d ' ' ;;
	esac
}

# in_order REF GOT: GOT's lines are REF's in order, starting within REF's
# first 2048 lines, with at most 8 gaps of at most 2048 lines (words of 4
# bytes: 8 KiB).  Says where.
in_order() {
	# compare strings: 36e13195 is a number to awk
	awk -v max_start=2048 -v max_gaps=8 -v max_gap=2048 '
	NR == FNR { ref[++nref] = $1 ""; next }
	{
		w = $1 ""
		got++
		if (got == 1) {
			from = 1
			span = max_start
		} else if (ref[j] == w) {
			j++
			next
		} else {
			from = j
			span = max_gap
			gaps++
		}
		for (k = from; k < from + span && k <= nref; k++)
			if (ref[k] == w)
				break
		if (k >= from + span || k > nref || gaps > max_gaps) {
			for (k = 1; k <= nref && ref[k] != w; k++)
				;
			why = "word " got " (" w ") not in order after word " \
				j - 1 (k <= nref ? ", but is word " k : \
				", nor anywhere in the reference")
			exit 1
		}
		if (got == 1)
			start = k - 1
		else
			skipped += k - from
		j = k + 1
	}
	END {
		if (!why && !got)
			why = "no output"
		if (why) {
			print why
			exit 1
		}
		printf "start %d, %d gaps, %d words skipped\n", start, gaps, skipped
		if (start || gaps)
			exit 1
	}' "$1" "$2"
}

# stream KIND SEED GOT COUNT: GOT is COUNT words of SEED's stream, in order
stream() {
	./edu-rng-stream "$2" 65536 | words "$1" >"$T/ref"
	got=$(wc -l <"$3")
	if [ "$got" -ne "$4" ]; then
		echo "# $got words, want $4"
		return 1
	fi
	where=$(in_order "$T/ref" "$3") || {
		echo "# not seed $2's stream: $where"
		head -n 3 "$3" | sed 's/^/#   got: /'
		head -n 3 "$T/ref" | sed 's/^/#   ref: /'
		return 1
	}
	echo "# seed $2: $where"
}

echo "TAP version 13"

# ---- the device as the tools see it
info_fields() {
	run ./edu-rng info
	if [ "$rc" -eq 0 ] &&
		grep -qx "edu-rng $BDF" "$T/out" &&
		grep -qx "  driver: *edu-rng" "$T/out" &&
		grep -qx "  node: *$NODE" "$T/out" &&
		grep -qx "  mode: *host" "$T/out" &&
		grep -qx "  hwrng: *edu-rng-$BDF (current)" "$T/out" &&
		grep -qx "  rng_current *$(cat $HWRNG/rng_current)" "$T/out" &&
		grep -qEx "  rng_available *edu-rng-$BDF( none)?" "$T/out" &&
		grep -qx "  rng_quality *1024" "$T/out"; then
		return 0
	fi
	show
	return 1
}
check "info: $BDF, driver, $NODE, mode host, hwrng current, quality 1024" \
	info_fields

# ---- read formats and sizes
read_default() {
	run ./edu-rng read
	if [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 1 ] &&
		grep -qxE '[0-9a-f]{32}' "$T/out"; then
		return 0
	fi
	show
	return 1
}
check "read: 16 bytes as one line of 32 hex digits by default" read_default
read_hex() {
	run ./edu-rng read -f hex -n 100
	if [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 7 ] &&
		[ "$(tr -d '\n' <"$T/out" | wc -c)" -eq 200 ] &&
		[ "$(grep -cxE '[0-9a-f]{32}' "$T/out")" -eq 6 ]; then
		return 0
	fi
	show
	return 1
}
check "read -f hex -n 100: 200 hex digits, 16 bytes a line" read_hex
read_raw() {
	for size in 1 1000 65537 1M; do
		want=$size
		[ "$size" != 1M ] || want=1048576
		got=$(./edu-rng read -f raw -n "$size" | wc -c)
		[ "$got" -eq "$want" ] || { echo "# -n $size: $got bytes"; return 1; }
	done
}
check "read -f raw: exactly 1, 1000, 65537 and 1M (1048576) bytes" read_raw
read_u32() {
	run ./edu-rng read -f u32 -n 64
	if [ "$rc" -eq 0 ] && [ "$(wc -l <"$T/out")" -eq 16 ] &&
		[ "$(grep -cxE '[0-9]{1,10}' "$T/out")" -eq 16 ] &&
		awk '$1 > 4294967295 { exit 1 }' "$T/out"; then
		return 0
	fi
	show
	return 1
}
check "read -f u32 -n 64: 16 decimal 32-bit numbers" read_u32

# ---- seeded streams
lab_seed() {
	./lab-rng -s 42 -n 256 >"$T/lab" && stream u32 42 "$T/lab" 256
}
check "lab-rng -s 42 -n 256: seed 42's stream (ioctls 0x40047101, 0x80047101)" \
	lab_seed
check "lab-rng -s 42 again: seed 42's stream again" lab_seed
# seeded, and out of the hwrng core
cli_seed() {
	[ "$(cat "/sys/bus/pci/devices/$BDF/mode")" = seeded ] &&
		! grep -q "edu-rng-$BDF" $HWRNG/rng_available || return 1
	./edu-rng read -f "$1" -n "$2" >"$T/got"
}
seed64_raw() {
	./edu-rng seed 0x0123456789abcdef && cli_seed raw 4096 &&
		words hex <"$T/got" >"$T/w" && stream hex 0x0123456789abcdef "$T/w" 1024
}
check "seed 0x0123456789abcdef (64 bits), read -f raw: its stream" seed64_raw
seed_u32() {
	./edu-rng -d "$BDF" seed 12345 && cli_seed u32 1024 &&
		stream u32 12345 "$T/got" 256
}
check "-d $BDF seed 12345, read -f u32: its stream" seed_u32
seed_hex() {
	./edu-rng -d "$NODE" seed 7 && cli_seed hex 256 &&
		{ tr -d '\n' <"$T/got" | fold -w8 && echo; } | grep . >"$T/w" &&
		stream hex 7 "$T/w" 64
}
check "-d $NODE seed 7, read -f hex: its stream" seed_hex
seed_ioctl() {
	./edu-rng -d 0 seed --ioctl 0xdeadbeef && cli_seed u32 1024 &&
		stream u32 3735928559 "$T/got" 256
}
check "-d 0 seed --ioctl 0xdeadbeef, read -f u32: its stream" seed_ioctl
seed_cli_read_lab() {
	./edu-rng seed 99 && ./lab-rng -n 64 >"$T/lab" && stream u32 99 "$T/lab" 64
}
check "seed 99, then lab-rng -n 64 (RAND only): seed 99's stream" \
	seed_cli_read_lab
info_seeded() {
	run ./edu-rng info
	if [ "$rc" -eq 0 ] && grep -qx "  mode: *seeded" "$T/out" &&
		grep -qx "  hwrng: *edu-rng-$BDF (withdrawn while seeded)" "$T/out" &&
		! grep -q "  rng_available .*edu-rng-$BDF" "$T/out"; then
		return 0
	fi
	show
	return 1
}
check "info while seeded: mode seeded, hwrng withdrawn" info_seeded

# ---- not root: seeding is refused, reading works
./edu-rng seed 5
lab_nobody() {
	run as_nobody "./lab-rng -s 6 -n 1"
	if [ "$rc" -ne 0 ] && grep -q "Operation not permitted" "$T/err" &&
		[ ! -s "$T/out" ]; then
		return 0
	fi
	show
	return 1
}
check "lab-rng -s as nobody: SEED fails with EPERM" lab_nobody
check "seed as nobody: exit 5, sysfs seed Permission denied" \
	exits 5 'seed: Permission denied' as_nobody "./edu-rng seed 6"
check "seed --ioctl as nobody: exit 5, Operation not permitted" \
	exits 5 'MY_RNG_IOCTL_SEED .*Operation not permitted' \
	as_nobody "./edu-rng seed --ioctl 6"
read_nobody() {
	as_nobody "./lab-rng -n 128" >"$T/lab" &&
		as_nobody "./edu-rng read -f u32 -n 512" >>"$T/lab" &&
		stream u32 5 "$T/lab" 256
}
check "lab-rng and read as nobody: still seed 5's stream" read_nobody
check "bench as nobody: exit 5, /dev/hwrng Permission denied" \
	exits 5 '/dev/hwrng: Permission denied' as_nobody "./edu-rng bench -n 64K"

echo host >"/sys/bus/pci/devices/$BDF/mode"
bench() {
	run ./edu-rng bench -n 1M -b 256K
	sed 's/^/# /' "$T/out"
	if [ "$rc" -eq 0 ] && [ "$(grep -c ' MB/s$' "$T/out")" -eq 2 ] &&
		grep -q "^$NODE .* 1048576 bytes in 262144-byte reads" "$T/out" &&
		grep -q "^/dev/hwrng (edu-rng-$BDF) .* 1048576 bytes" "$T/out" &&
		! grep -q ' 0\.00 MB/s' "$T/out"; then
		return 0
	fi
	show
	return 1
}
check "bench -n 1M -b 256K: MB/s of $NODE and /dev/hwrng" bench

# ---- arguments: refused, and nothing changed (seed 31337's stream goes on)
bad_args() {
	bad=0
	./edu-rng seed 31337 && cli_seed u32 256 || return 1
	while read -r args; do
		# shellcheck disable=SC2086
		run ./edu-rng $args
		if [ "$rc" -ne 2 ] || [ -s "$T/out" ] ||
			! grep -q "^edu-rng: " "$T/err" || ! grep -q "help'" "$T/err"; then
			echo "# edu-rng $args"
			show
			bad=1
		fi
	done <<-EOF
		frob
		--bogus
		-d
		-d foo info
		-d /dev/hwrng read
		info extra
		read -f oct
		read -n
		read -n abc
		read -n 0
		read -n -4
		read -f u32 -n 6
		read -x
		seed
		seed 1 2
		seed -- -5
		seed 0x
		seed 12a
		seed 18446744073709551616
		seed --ioctl 4294967296
		info --ioctl
		bench -b 0
		bench -b 65M
		bench -n 1Q
		help frob
		help read extra
		seed +5
		seed 0x0x10
		seed 0X0x10
		-xy info
		read -Ix
		info --help=1
	EOF
	run ./edu-rng
	[ "$rc" -eq 2 ] || { echo "# edu-rng (no command)"; show; bad=1; }
	while read -r args; do
		# shellcheck disable=SC2086
		run ./lab-rng $args
		if [ "$rc" -ne 2 ] || [ -s "$T/out" ] || ! grep -q "lab-rng: bad -" "$T/err"; then
			echo "# lab-rng $args"
			show
			bad=1
		fi
	done <<-EOF
		-s abc
		-s 0x1ffffffff
		-s -1
		-s 5x
		-n abc
		-n -1
		-n 2147483648
	EOF
	cp "$T/got" "$T/before"
	cli_seed u32 256 && cat "$T/before" "$T/got" >"$T/all" &&
		stream u32 31337 "$T/all" 128 || bad=1
	echo host >"/sys/bus/pci/devices/$BDF/mode"
	return $bad
}
check "bad arguments (edu-rng, lab-rng): exit 2, a message, no output, seeded stream unchanged" \
	bad_args
option_names() {
	exits 2 "unknown option '-x'" ./edu-rng -xy info &&
		exits 2 "unknown option '-I'" ./edu-rng read -Ix &&
		exits 2 "unknown option '--bogus'" ./edu-rng read --bogus &&
		exits 2 "option '--help' takes no argument" ./edu-rng info --help=1 &&
		exits 2 "option '-n' needs an argument" ./edu-rng read -n &&
		exits 2 "bad seed '0x0x10'" ./edu-rng seed 0x0x10
}
check "option errors name the option as written" option_names
helps() {
	for args in --help -h help "help read" "info -h" "seed --help" \
		"read --help" "bench -h"; do
		# shellcheck disable=SC2086
		run ./edu-rng $args
		if [ "$rc" -ne 0 ] || [ -s "$T/err" ] ||
			! grep -q '^Usage: edu-rng' "$T/out"; then
			echo "# edu-rng $args"
			show
			return 1
		fi
	done
	run ./edu-rng --help
	grep -q '^  5  permission denied' "$T/out" || return 1
	run ./edu-rng --version
	[ "$rc" -eq 0 ] && grep -qxE 'edu-rng [^ ]+' "$T/out"
}
check "--help, -h and help for each command, --version: exit 0" helps

# ---- no such device, no driver bound, no module
check "-d 7: exit 3, no such edu-rng device" \
	exits 3 '/dev/edu-rng7: no such edu-rng device' ./edu-rng -d 7 read
check "-d 0000:00:1f.0: exit 3, not an edu-rng device" \
	exits 3 '0000:00:1f.0 is not an edu-rng device' ./edu-rng -d 0000:00:1f.0 info
check "-d 00:09.0: exit 3, no such PCI device" \
	exits 3 '0000:00:09.0: no such PCI device' ./edu-rng -d 00:09.0 seed 1

# Each of these puts the device back whatever failed, so that one failure
# does not fail the checks after it.
unbound() {
	r=0
	echo "$BDF" >$DRV/unbind
	exits 4 "$BDF: not bound to the edu-rng driver" ./edu-rng read &&
		exits 4 "$BDF: not bound" ./edu-rng seed 1 &&
		exits 4 "/dev/edu-rng0: no edu-rng device is bound" ./edu-rng -d 0 read &&
		exits 4 'no edu-rng device is bound' ./edu-rng info &&
		grep -qx "  driver: *none" "$T/out" && grep -qx "  node: *-" "$T/out" || r=1
	echo "$BDF" >$DRV/bind || r=1
	[ $r -eq 0 ] && run ./edu-rng -d "$BDF" read && [ "$rc" -eq 0 ]
}
check "unbound: read, seed, -d 0 read, info exit 4; bound again: read works" \
	unbound
no_device() {
	r=0
	echo 1 >"/sys/bus/pci/devices/$BDF/remove"
	exits 3 'no edu-rng device \(PCI 1234:cafe\) found' ./edu-rng info &&
		grep -qx "  rng_current *none" "$T/out" &&
		exits 3 'no edu-rng device' ./edu-rng read &&
		exits 3 "$BDF: no such PCI device" ./edu-rng -d "$BDF" info || r=1
	echo 1 >/sys/bus/pci/rescan || r=1
	[ $r -eq 0 ] && run ./edu-rng info && [ "$rc" -eq 0 ]
}
check "PCI device removed: info, read exit 3; rescanned: info exit 0" \
	no_device
no_module() {
	r=0
	rmmod edu_rng
	exits 4 'module edu_rng is not loaded' ./edu-rng info &&
		grep -qx "  driver: *none" "$T/out" &&
		exits 4 "$BDF: module edu_rng is not loaded" ./edu-rng read &&
		exits 4 '/dev/edu-rng0: module edu_rng is not loaded' ./edu-rng -d 0 read &&
		exits 4 'module edu_rng is not loaded' ./edu-rng seed --ioctl 1 || r=1
	insmod "$KO" || r=1
	[ $r -eq 0 ] && run ./edu-rng read && [ "$rc" -eq 0 ] &&
		run ./edu-rng info && [ "$rc" -eq 0 ]
}
check "module unloaded: info, read, seed exit 4; insmod again: read works" \
	no_module
back() {
	[ -e "$DRV/$BDF" ] && [ -c "$NODE" ] &&
		[ "$(cat $HWRNG/rng_current)" = "edu-rng-$BDF" ]
}
check "edu-rng is bound and current again" back

echo "1..$n"
tap_done
