#!/bin/bash
# make bench: measure edu-rng beside the other random sources of a guest,
# under identical conditions, in one run.  Not a test: nothing passes or
# fails on a figure.  Method and caveats: Documentation/bench.rst.
#
# Usage: bench/bench.sh [--scale N] [--smp "1 2"] [--kernels LIST]
#                       [--pairs-only] [--no-sweep] [--no-scaling] [--cpu M]
#
#   --scale N      divide every byte count by N (a quick, noisy run)
#   --smp LIST     guest vCPU counts of the main runs (default "1 2")
#   --kernels LIST guest kernels: "default" ($KVER, Debian's) and kernels
#                  built here by guest/build-kernel.sh (default
#                  "default $KVER_BUILT", KVER_BUILT defaulting to 7.2)
#   --pairs-only   only the paired rounds (no other source, sweep, scaling)
#   --no-sweep     skip the dma-latency-ns sweep guests
#   --no-scaling   skip the 1, 2, 4 devices guest
#   --cpu MODEL    guest CPU model (default qemu64, as qemu/run-vm)
#
# Boots, on each kernel, one guest per --smp value (every source, read
# size and reader count, the paired rounds, time to first byte after a
# seed, idle cost with rngd); on the default kernel one guest with four
# devices (scaling) and, when QEMU's edu-rng has the property, one guest
# per dma-latency-ns value.  Outputs in build/bench/: results.json (one
# object per measurement: the median of its rounds; one per pair),
# samples.json (every round), results.md (also printed), throughput.png,
# scaling.png, and each guest's serial log and JSON lines.
set -eu
# shellcheck source=../scripts/common.sh
. "$(dirname "$0")/../scripts/common.sh"

OUT=$BUILD/bench
LATENCIES=(0 10000 50000 100000)
# the sweep compares guests booted at different times: more rounds
SWEEP_ROUNDS=7
VIRTIO_ARGS=(-object 'rng-random,filename=/dev/urandom,id=rng0'
	-device 'virtio-rng-pci,rng=rng0')
SCALE=1
SMPS="1 2"
SWEEP=1
SCALING=1
PAIRS_ONLY=
KERNELS="default ${KVER_BUILT-7.2}"
CPU=qemu64
# per kernel label: run-vm options (a list of words: paths have no
# blanks), the release
declare -A KOPTS KREL

usage() {
	sed -n '5,16p' "$0" | sed 's/^# \{0,1\}//'
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--scale) SCALE=${2:?--scale needs N}; shift 2 ;;
		--smp) SMPS=${2:?--smp needs a list}; shift 2 ;;
		--kernels) KERNELS=${2:?--kernels needs a list}; shift 2 ;;
		--pairs-only) PAIRS_ONLY=1 SWEEP='' SCALING=''; shift ;;
		--no-sweep) SWEEP=; shift ;;
		--no-scaling) SCALING=; shift ;;
		--cpu) CPU=${2:?--cpu needs a model}; shift 2 ;;
		-h | --help) usage; exit 0 ;;
		*) die "unknown argument '$1' (see --help)" ;;
		esac
	done
	case $SCALE in '' | *[!0-9]* | 0) die "--scale wants a positive integer" ;; esac
}

# Build what the guests need, from a snapshot of the sources in
# build/bench/src so that edits made meanwhile do not mix into one run.  The
# bench module is optional: without it, lab-ioctl and null-hwrng are
# reported missing.
build() {
	local src=$OUT/src ko
	"$TOP/scripts/deps.sh" gcc make python3 gnuplot-nox
	if [ -x "$TOP/scripts/module.sh" ]; then
		ko=$("$TOP/scripts/module.sh" --print "$src")
	else
		mkdir -p "$src"
		cp -r "$TOP/drivers" "$TOP/include" "$src/"
		make -s -C "$src/drivers" KVER="$KVER" >"$OUT/module.log" 2>&1 ||
			{ cat "$OUT/module.log" >&2; die "module build failed"; }
		ko=$src/drivers/edu-rng.ko
	fi
	[ -f "$ko" ] || die "module build failed"
	# KDIR for $KVER, when common.sh knows how to find it
	if declare -F use_headers >/dev/null; then
		use_headers
	fi
	KOPTS[default]="--module $ko$(bench_module "$src" default KVER="$KVER" ${KDIR:+KDIR="$KDIR"})"
	KREL[default]=$KVER
	for k in $KERNELS; do
		[ "$k" = default ] || built_kernel "$k"
	done
	# One QEMU binary for every guest of the run.
	QEMU=$("$TOP/qemu/build-qemu.sh" --print-path)
	export QEMU
	"$TOP/guest/fetch-kernel.sh" >/dev/null
	make -s -C "$TOP/bench" OUTPUT="$OUT"
}

# bench_module SRC LABEL MAKE-VAR...: build the bench module in SRC
# (a copy of the sources) and print " --module KO", or say why not.
bench_module() {
	local src=$1 label=$2 ko=$1/drivers/bench/edu_rng_bench.ko
	shift 2
	if [ -f "$TOP/drivers/bench/Makefile" ] && {
		mkdir -p "$src/drivers/bench" &&
			cp "$TOP"/drivers/bench/{Makefile,Kbuild,*.c} "$src/drivers/bench/" &&
			cp -r "$TOP/include" "$src/" &&
			make -s -C "$src/drivers/bench" "$@"
	} >"$OUT/bench-module-$label.log" 2>&1 && [ -f "$ko" ]; then
		echo " --module $ko"
	else
		echo "bench: no edu_rng_bench.ko for $label (see ${OUT#"$TOP"/}/bench-module-$label.log):" \
			"lab-ioctl, null-hwrng and null-cdev will be missing" >&2
	fi
}

# A kernel built here (guest/build-kernel.sh $1, cached): edu-rng.ko and the
# bench module against its tree, an initramfs with both, in
# build/bench/guest-$1/.  A kernel that does not build is left out.
built_kernel() {
	local k=$1 d=$OUT/guest-$1 tree rel moddir kernel ko mods
	mkdir -p "$d"
	if ! "$TOP/guest/build-kernel.sh" "$k" --print-build-dir --print-release \
		--print-moddir --print-path >"$d/kernel.txt"; then
		echo "bench: guest/build-kernel.sh $k failed: no guests on $k" >&2
		return 0
	fi
	{ read -r tree && read -r rel && read -r moddir && read -r kernel; } <"$d/kernel.txt"
	ko=$("$TOP/scripts/module.sh" --print --kdir "$tree" "$d/src")
	mods=$(bench_module "$d/src" "$k" KDIR="$tree")
	# shellcheck disable=SC2086 # " --module KO" or nothing
	"$TOP/guest/mkinitramfs.sh" "$d/initrd.img" --moddir "$moddir" --module "$ko" $mods
	KOPTS[$k]="--kernel $kernel --initrd $d/initrd.img"
	KREL[$k]=$rel
}

# The device's dma-latency-ns default, or "" when QEMU lacks the property.
latency_default() {
	"$QEMU" -nodefaults -device edu-rng,help 2>/dev/null |
		sed -n 's/^ *dma-latency-ns=.*(default: *\([0-9]*\)).*/\1/p'
}

# guest KERNEL NAME SMP APPEND [QEMU-ARG...]: boot a guest on KERNEL (a
# label of KOPTS) running the payload, keep its serial log and its results
# as NAME.jsonl.  Status of run-vm.
guest() {
	local k=$1 name=$2 smp=$3 append=$4 rc=0 t=$SECONDS opts
	shift 4
	read -ra opts <<<"${KOPTS[$k]}"
	echo "bench: guest $name (${KREL[$k]}, smp $smp) ..." >&2
	"$TOP/qemu/run-vm" --timeout 1200 --smp "$smp" --cpu "$CPU" --log "$OUT/$name.serial.log" \
		--exec "$TOP/bench/guest-bench.sh" --add "$OUT/rng-bench:/exec/" \
		"${opts[@]}" --append "$append edu.bench_scale=$SCALE" \
		-- "${VIRTIO_ARGS[@]}" "$@" >"$OUT/$name.out" 2>&1 || rc=$?
	tr -d '\r' <"$OUT/$name.serial.log" | sed -n 's/^BENCH //p' |
		sed "s/^{/{\"guest\": \"$name\", \"kernel\": \"${KREL[$k]}\", /" >"$OUT/$name.jsonl"
	echo "bench: guest $name: status $rc, $(wc -l <"$OUT/$name.jsonl") results, $((SECONDS - t)) s" >&2
	[ $rc -eq 0 ] || tail -n 5 "$OUT/$name.out" >&2
	return $rc
}

# Rows for sweep guests that could not run: QEMU lacks the property.
sweep_missing() {
	local lat=$1 why=$2 s
	for s in edu-rng edu-rng-direct; do
		printf '{"guest": "sweep-%s", "kernel": "%s", "source": "%s", "smp": 2, "dma_latency_ns": %s, "mode": "sweep", "missing": "%s"}\n' \
			"$lat" "$KVER" "$s" "$lat" "$why"
	done >"$OUT/sweep-$lat.jsonl"
}

run_guests() {
	local smp lat def k mode=full
	def=$(latency_default)
	[ -z "$PAIRS_ONLY" ] || mode=pairs
	for k in $KERNELS; do
		if [ -z "${KOPTS[$k]-}" ]; then
			echo "bench: no guest kernel $k" >&2
			continue
		fi
		for smp in $SMPS; do
			guest "$k" "$k-smp$smp" "$smp" \
				"edu.bench=$mode edu.dma_latency=${def:-null}" || true
		done
	done
	# four devices, 1, 2 or 4 of them read
	[ -z "$SCALING" ] || guest default scaling 2 \
		"edu.bench=scale edu.bench_rounds=3 edu.dma_latency=${def:-null}" \
		-device edu-rng -device edu-rng -device edu-rng || true
	[ -n "$SWEEP" ] || return 0
	for lat in "${LATENCIES[@]}"; do
		if [ -z "$def" ]; then
			sweep_missing "$lat" "QEMU's edu-rng has no dma-latency-ns property"
		elif ! guest default "sweep-$lat" 2 \
			"edu.bench=sweep edu.bench_rounds=$SWEEP_ROUNDS edu.dma_latency=$lat" \
			-global "edu-rng.dma-latency-ns=$lat"; then
			[ -s "$OUT/sweep-$lat.jsonl" ] ||
				sweep_missing "$lat" "guest with dma-latency-ns=$lat failed (see sweep-$lat.out)"
		fi
	done
}

# results.json, results.md and the plots' data from the guests' JSON lines
# (bench/report.py).
report() {
	local files=()
	mapfile -t files < <(find "$OUT" -maxdepth 1 -name '*.jsonl' | sort)
	python3 "$TOP/bench/report.py" "$OUT" "$KVER" "$QEMU" "$((SECONDS - START))" "$SCALE" \
		"$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)" "$CPU" "${files[@]}"
}

# plot_dat NAME TITLE XTICS XMAX: NAME.png from NAME.dat, one line per
# block, with the range of the rounds as error bars.
plot_dat() {
	local n
	n=$(grep -c '^"' "$OUT/$1.dat" || true)
	[ "$n" -gt 0 ] || { echo "bench: no data for $1.png" >&2; return 0; }
	gnuplot <<GP
set terminal pngcairo size 960,600 font "sans,11"
set output "$OUT/$1.png"
set title "$2"
set logscale xy
set xlabel "read size (bytes)"
set ylabel "MB/s (log)"
set xtics ($3)
set xrange [40:$4]
set grid
set key outside right
# a ninth colour: the eight default ones would come round again
set linetype 9 lc rgb "#8b4513"
plot for [i=0:$((n - 1))] "$OUT/$1.dat" index i using 1:2:3:4 \
	with yerrorlines lw 2 pt 7 title columnheader(1)
GP
}

plot() {
	plot_dat throughput \
		"Throughput by read size (guest smp 2, 1 reader, TCG; median and range of the rounds)" \
		'"64 B" 64, "4 KiB" 4096, "64 KiB" 65536' 100000
	plot_dat scaling \
		"Aggregate MB/s, N devices with one reader each (smp 2, TCG; median and range)" \
		'"64 B" 64, "1 KiB" 1024, "4 KiB" 4096, "64 KiB" 65536, "256 KiB" 262144, "1 MiB" 1048576' \
		1600000
}

main() {
	parse_args "$@"
	START=$SECONDS
	LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
	rm -rf "$OUT"
	mkdir -p "$OUT"
	build
	run_guests
	report
	plot || echo "bench: gnuplot failed: no throughput.png or scaling.png" >&2
	cat "$OUT/results.md"
	echo "bench: done in $((SECONDS - START)) s; results in ${OUT#"$TOP"/}/" >&2
}

main "$@"
