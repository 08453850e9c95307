#!/bin/bash
# make bench: measure edu-rng beside the other random sources of a guest,
# under identical conditions, in one run.  Not a test: nothing passes or
# fails on a figure.  Method and caveats: Documentation/bench.rst.
#
# Usage: bench/bench.sh [--scale N] [--smp "1 2"] [--no-sweep] [--cpu M]
#
#   --scale N    divide every byte count by N (a quick, noisy run)
#   --smp LIST   guest vCPU counts of the main runs (default "1 2")
#   --no-sweep   skip the dma-latency-ns sweep guests
#   --cpu MODEL  guest CPU model (default qemu64, as qemu/run-vm)
#
# Boots one guest per --smp value (every source, read size and reader
# count, time to first byte after a seed, idle cost with rngd) and, when
# QEMU's edu-rng has the property, one guest per dma-latency-ns value.
# Outputs in build/bench/: results.json (one object per measurement:
# the median of its rounds), samples.json (every round), results.md (also
# printed), throughput.png, and each guest's serial log and JSON lines.
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
CPU=qemu64

usage() {
	sed -n '5,10p' "$0" | sed 's/^# \{0,1\}//'
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--scale) SCALE=${2:?--scale needs N}; shift 2 ;;
		--smp) SMPS=${2:?--smp needs a list}; shift 2 ;;
		--no-sweep) SWEEP=; shift ;;
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
	MODULES=(--module "$ko")
	ko=$src/drivers/bench/edu_rng_bench.ko
	# KDIR for $KVER, when common.sh knows how to find it
	if declare -F use_headers >/dev/null; then
		use_headers
	fi
	if [ -f "$TOP/drivers/bench/Makefile" ] && {
		mkdir -p "$src/drivers/bench" &&
			cp "$TOP"/drivers/bench/{Makefile,Kbuild,*.c} "$src/drivers/bench/" &&
			cp -r "$TOP/include" "$src/" &&
			make -s -C "$src/drivers/bench" KVER="$KVER" ${KDIR:+KDIR="$KDIR"}
	} >"$OUT/bench-module.log" 2>&1 && [ -f "$ko" ]; then
		MODULES+=(--module "$ko")
	else
		echo "bench: no drivers/bench/edu_rng_bench.ko (see ${OUT#"$TOP"/}/bench-module.log):" \
			"lab-ioctl and null-hwrng will be missing" >&2
	fi
	# One QEMU binary for every guest of the run.
	QEMU=$("$TOP/qemu/build-qemu.sh" --print-path)
	export QEMU
	"$TOP/guest/fetch-kernel.sh" >/dev/null
	make -s -C "$TOP/bench" OUTPUT="$OUT"
}

# The device's dma-latency-ns default, or "" when QEMU lacks the property.
latency_default() {
	"$QEMU" -nodefaults -device edu-rng,help 2>/dev/null |
		sed -n 's/^ *dma-latency-ns=.*(default: *\([0-9]*\)).*/\1/p'
}

# guest NAME SMP APPEND [QEMU-ARG...]: boot a guest running the payload,
# keep its serial log and its results as NAME.jsonl.  Status of run-vm.
guest() {
	local name=$1 smp=$2 append=$3 rc=0 t=$SECONDS
	shift 3
	echo "bench: guest $name (smp $smp) ..." >&2
	"$TOP/qemu/run-vm" --timeout 900 --smp "$smp" --cpu "$CPU" --log "$OUT/$name.serial.log" \
		--exec "$TOP/bench/guest-bench.sh" --add "$OUT/rng-bench:/exec/" \
		"${MODULES[@]}" --append "$append edu.bench_scale=$SCALE" \
		-- "${VIRTIO_ARGS[@]}" "$@" >"$OUT/$name.out" 2>&1 || rc=$?
	tr -d '\r' <"$OUT/$name.serial.log" | sed -n 's/^BENCH //p' |
		sed "s/^{/{\"guest\": \"$name\", /" >"$OUT/$name.jsonl"
	echo "bench: guest $name: status $rc, $(wc -l <"$OUT/$name.jsonl") results, $((SECONDS - t)) s" >&2
	[ $rc -eq 0 ] || tail -n 5 "$OUT/$name.out" >&2
	return $rc
}

# Rows for sweep guests that could not run: QEMU lacks the property.
sweep_missing() {
	local lat=$1 why=$2 s
	for s in edu-rng edu-rng-direct; do
		printf '{"guest": "sweep-%s", "source": "%s", "smp": 2, "dma_latency_ns": %s, "mode": "sweep", "missing": "%s"}\n' \
			"$lat" "$s" "$lat" "$why"
	done >"$OUT/sweep-$lat.jsonl"
}

run_guests() {
	local smp lat def
	def=$(latency_default)
	for smp in $SMPS; do
		guest "smp$smp" "$smp" "edu.bench=full edu.dma_latency=${def:-null}" || true
	done
	[ -n "$SWEEP" ] || return 0
	for lat in "${LATENCIES[@]}"; do
		if [ -z "$def" ]; then
			sweep_missing "$lat" "QEMU's edu-rng has no dma-latency-ns property"
		elif ! guest "sweep-$lat" 2 \
			"edu.bench=sweep edu.bench_rounds=$SWEEP_ROUNDS edu.dma_latency=$lat" \
			-global "edu-rng.dma-latency-ns=$lat"; then
			[ -s "$OUT/sweep-$lat.jsonl" ] ||
				sweep_missing "$lat" "guest with dma-latency-ns=$lat failed (see sweep-$lat.out)"
		fi
	done
}

# results.json, results.md and the plot's data from the guests' JSON lines.
report() {
	local files=()
	mapfile -t files < <(find "$OUT" -maxdepth 1 -name '*.jsonl' | sort)
	python3 - "$OUT" "$KVER" "$QEMU" "$((SECONDS - START))" "$SCALE" \
		"$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)" "$CPU" "${files[@]}" <<'PY'
import json, statistics, sys

out, kver, qemu, secs, scale, load0, load1, cpu = sys.argv[1:9]
SOURCES = ["edu-rng", "edu-rng-direct", "virtio-rng", "lab-ioctl",
           "null-hwrng", "urandom", "zero"]
SIZES, READERS = [64, 4096, 65536], [1, 2, 4]
HWRNG = {"edu-rng", "virtio-rng", "null-hwrng"}
MIB = 1 << 20

rows, bad = [], 0
for path in sys.argv[9:]:
    for line in open(path):
        try:
            rows.append(json.loads(line))
        except ValueError:
            bad += 1

samples = [r for r in rows if "mb_per_s" in r]
ttfb = [r for r in rows if r.get("test") == "ttfb"]
idle = [r for r in rows if r.get("test") == "idle"]
missing = [r for r in rows if "missing" in r]
for r in samples:
    r["test"] = "throughput"
    r["readers_cpu_ms_per_mib"] = r["readers_cpu_ms"] / (r["bytes"] / MIB)
with open(f"{out}/samples.json", "w") as f:
    json.dump(samples, f, indent=1)
    f.write("\n")


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def one(vals):
    vals = sorted({json.dumps(v) for v in vals})
    return json.loads(vals[0]) if len(vals) == 1 else " / ".join(vals)


# The same measurement of another source in the same round, guest and
# conditions: the two ran one right after the other.
by_round = {(r["guest"], r["mode"], r["dma_latency_ns"], r["source"],
             r["read_size"], r["readers"], r["smp"], r["round"]): r
            for r in samples if "error" not in r}


def paired(ok, ref):
    """Median over rounds of the ratio to @ref measured in that round."""
    q = []
    for r in ok:
        o = by_round.get((r["guest"], r["mode"], r["dma_latency_ns"], ref,
                          r["read_size"], r["readers"], r["smp"], r["round"]))
        if o and o["mb_per_s"]:
            q.append(r["mb_per_s"] / o["mb_per_s"])
    return med(q)


# One cell per source, read size, readers, smp (and latency): the median
# of its rounds, each figure on its own.
groups = {}
for r in samples:
    k = (r["mode"], r["dma_latency_ns"], r["source"], r["read_size"],
         r["readers"], r["smp"])
    groups.setdefault(k, []).append(r)
cells = []
for (mode, lat, src, size, n, smp), g in sorted(groups.items(), key=str):
    ok = [r for r in g if "error" not in r]
    c = {"test": "throughput", "guest": g[0]["guest"], "mode": mode,
         "source": src, "path": g[0]["path"], "read_size": size,
         "readers": n, "smp": smp, "dma_latency_ns": lat,
         "ioctl": g[0]["ioctl"], "rounds": len(ok),
         "bytes": g[0]["bytes"],
         "mb_per_s": med(r["mb_per_s"] for r in ok),
         "mb_per_s_min": min((r["mb_per_s"] for r in ok), default=None),
         "mb_per_s_max": max((r["mb_per_s"] for r in ok), default=None),
         "mb_per_s_samples": [r["mb_per_s"] for r in ok],
         "seconds": med(r["seconds"] for r in ok),
         "irq_line": g[0]["irq_line"],
         "irqs_per_mib": med(r["irqs_per_mib"] for r in ok),
         "irqs_total_per_mib": med(r["irqs_total_per_mib"] for r in ok),
         "cpu_ms_per_mib": med(r["cpu_ms_per_mib"] for r in ok),
         "readers_cpu_ms_per_mib": med(r["readers_cpu_ms_per_mib"] for r in ok),
         "rng_current": one(r["rng_current"] for r in g),
         "rng_quality": one(r["rng_quality"] for r in g),
         "rngd": any(r["rngd"] or r["rngd_after"] for r in g),
         "rng_current_changed": any(r["rng_current_after"] != r["rng_current"]
                                    for r in g)}
    if len(ok) < len(g):
        c["errors"] = [r["error"] for r in g if "error" in r]
    for ref in ("null-hwrng", "virtio-rng", "urandom", "zero"):
        c["x_" + ref.replace("-", "_")] = paired(ok, ref)
    cells.append(c)
for m in missing:
    combos = [(65536, 1)] if m["mode"] == "sweep" else \
        [(s, n) for s in SIZES for n in READERS]
    for size, n in combos:
        cells.append(dict(m, test="throughput", read_size=size, readers=n,
                          mb_per_s=None))
with open(f"{out}/results.json", "w") as f:
    json.dump(cells + ttfb + idle, f, indent=1)
    f.write("\n")

full = {(c["source"], c["read_size"], c["readers"], c["smp"]): c
        for c in cells if c["mode"] == "full"}
sweep = sorted((c for c in cells if c["mode"] == "sweep"),
               key=lambda c: (c["dma_latency_ns"], c["source"]))
smps = sorted({c["smp"] for c in full.values()})
rounds = [c["rounds"] for c in full.values() if "rounds" in c]
main_rounds, target_rounds = min(rounds, default=0), max(rounds, default=0)
sweep_rounds = max((c.get("rounds", 0) for c in sweep), default=0)


def size_name(n):
    return f"{n // 1024} KiB" if n >= 1024 else f"{n} B"


def num(v):
    if v is None:
        return "-"
    return f"{v:,.0f}" if v >= 1000 else f"{v:.3g}"


def mbs(c):
    if "missing" in c:
        return f"missing: {c['missing']}"
    if c["mb_per_s"] is None:
        return f"error: {c['errors'][0]}"
    s = num(c["mb_per_s"])
    return s + (" (some rounds failed)" if "errors" in c else "")


def spread(c):
    if c.get("mb_per_s") is None or c["rounds"] < 2:
        return ""
    return f"{num(c['mb_per_s_min'])}-{num(c['mb_per_s_max'])}"


def ratio(c, other):
    x = c.get("x_" + other.replace("-", "_"))
    return "-" if x is None else num(x) + "x"


def state(c):
    if c["source"] not in HWRNG or "missing" in c:
        return ""
    s = f"{c['rng_current']} (q {c['rng_quality']})"
    return s + (" changed while measuring!" if c["rng_current_changed"] else "")


md = []
w = md.append
w("# edu-rng benchmark\n")
w(f"Guest kernel {kver}, CPU model {cpu}; QEMU `{qemu}` under TCG; host load average "
  f"{load0} at start, {load1} at end; whole run {secs} s"
  + (f"; byte counts divided by {scale}" if scale != "1" else "") + ".\n")
w(f"Each figure is the median of its rounds ({main_rounds} in the main "
  "guests" + (f", {target_rounds} for the targets' 64 KiB, 1-reader cells"
              if target_rounds > main_rounds else "")
  + (f", {sweep_rounds} in the sweep" if sweep_rounds else "")
  + "; range: slowest-fastest), the rounds interleaved across sources.  MB/s = 10^6 bytes/s.  "
  "irqs/MiB: the device's own interrupt line (edu-rng-<BDF>; virtio lines "
  "for virtio-rng).  CPU ms/MiB: guest busy time over all vCPUs "
  "(/proc/stat, 10 ms ticks).  Ratios: to null-hwrng and virtio-rng at the "
  "same read size, readers and smp, taken round by round (the two measured "
  "one right after the other), median of the rounds.  TCG and host load "
  "swing absolute figures 2x or more: compare within one run only.\n")
nr = sum(1 for r in samples if r["rngd"] or r["rngd_after"])
w(f"rngd ran during {nr} of {len(samples)} throughput samples; rng_current "
  "was selected and read back right before each sample, rng_quality never "
  "written.\n")

# The issue's targets, as measured in this run: 64 KiB reads, 1 reader.
def target_rows():
    def x(src, ref, smp, size=65536, n=1):
        c = full.get((src, size, n, smp))
        return c.get("x_" + ref.replace("-", "_")) if c else None

    def irqs():
        v = [c["irqs_per_mib"] for c in full.values()
             if c["source"] in ("edu-rng", "edu-rng-direct")
             and c.get("irqs_per_mib") is not None]
        return max(v) if v else None

    rows = []
    for smp in smps:
        for src, ref, goal in (("edu-rng", "null-hwrng", 0.95),
                               ("edu-rng", "virtio-rng", 50),
                               ("edu-rng-direct", "null-hwrng", 5),
                               ("edu-rng-direct", "urandom", 5)):
            v = x(src, ref, smp)
            rows.append((f"{src} / {ref}, smp {smp}", f">= {goal}x",
                         "-" if v is None else num(v) + "x",
                         v is not None and v >= goal))
    v = irqs()
    rows.append(("edu-rng interrupts per MiB, worst cell", "<= 64",
                 num(v), v is not None and v <= 64))
    d = [r.get("irqs") for r in idle]
    rows.append(("edu-rng DMAs in 2 s idle (with and without rngd)", "0",
                 " / ".join(str(i) for i in d) if d else "-",
                 bool(d) and all(i == 0 for i in d)))
    return rows


if full:
    w("## Targets (64 KiB reads, 1 reader)\n")
    w("| what | target | this run | met |")
    w("| --- | ---: | ---: | --- |")
    for what, goal, got, met in target_rows():
        w(f"| {what} | {goal} | {got} | {'yes' if met else 'no'} |")
    w("")

w("## At a glance: MB/s, guest smp 2, 1 reader\n")
w("| source | 64 B | 4 KiB | 64 KiB |")
w("| --- | ---: | ---: | ---: |")
for src in SOURCES:
    cs = [full.get((src, s, 1, 2)) for s in SIZES]
    w(f"| {src} | " + " | ".join("missing" if c and "missing" in c
                                   else mbs(c) if c else "-" for c in cs) + " |")
w("")

w("## Throughput\n")
w("| source | read | readers | smp | MB/s | range | x null-hwrng "
  "| x virtio-rng | irqs/MiB | CPU ms/MiB | rng_current (quality) |")
w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for src in SOURCES:
    for size in SIZES:
        for n in READERS:
            for smp in smps:
                c = full.get((src, size, n, smp))
                lead = f"| {src} | {size_name(size)} | {n} | {smp} |"
                if c is None:
                    w(f"{lead} not measured | | | | | | |")
                elif c.get("mb_per_s") is None:
                    w(f"{lead} {mbs(c)} | | | | | | {state(c)} |")
                else:
                    w(f"{lead} {mbs(c)} | {spread(c)} | {ratio(c, 'null-hwrng')} "
                      f"| {ratio(c, 'virtio-rng')} | {num(c['irqs_per_mib'])} "
                      f"| {num(c['cpu_ms_per_mib'])} | {state(c)} |")
w("")

if sweep:
    w("## DMA latency sweep: 64 KiB reads, 1 reader, smp 2\n")
    w("One guest per `-global edu-rng.dma-latency-ns=N`.  Host load differs "
      "between guests, so each guest also measures null-hwrng and zero: "
      "the ratios to them are the figures to compare across latencies.\n")
    def sratio(c, other):
        x = c.get("x_" + other.replace("-", "_"))
        return "-" if x is None else num(x) + "x"

    w("| dma-latency-ns | source | MB/s | range | x null-hwrng | x zero "
      "| irqs/MiB | CPU ms/MiB |")
    w("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for c in sweep:
        if c["source"] not in ("edu-rng", "edu-rng-direct"):
            continue
        if c.get("mb_per_s") is None:
            w(f"| {c['dma_latency_ns']} | {c['source']} | {mbs(c)} | | | | | |")
        else:
            w(f"| {c['dma_latency_ns']} | {c['source']} | {mbs(c)} | {spread(c)} "
              f"| {sratio(c, 'null-hwrng')} | {sratio(c, 'zero')} "
              f"| {num(c['irqs_per_mib'])} | {num(c['cpu_ms_per_mib'])} |")
    w("")

if ttfb:
    w("## Time to first byte after a seed (64-byte read, 5 seeds)\n")
    w("From the write to `/sys/bus/pci/devices/<BDF>/seed` until a 64-byte "
      "read of /dev/edu-rng0 returns.  A seeded device is no hwrng: its "
      "stream has no /dev/hwrng path.\n")
    w("| source | smp | median us | min us | max us | seed write us "
      "| read us |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for smp in smps:
        g = [r for r in ttfb if r["smp"] == smp]
        ok = [r for r in g if "error" not in r]
        if not ok:
            if g:
                w(f"| edu-rng-direct | {smp} | error: {g[0]['error']} | | | | |")
            continue
        t = [r["ttfb_us"] for r in ok]
        w(f"| edu-rng-direct | {smp} | {med(t):.0f} | {min(t):.0f} | {max(t):.0f} "
          f"| {med(r['seed_write_us'] for r in ok):.0f} "
          f"| {med(r['read_us'] for r in ok):.0f} |")
    w("")

if idle:
    w("## Idle cost: 2 s with edu-rng current and the pool full\n")
    w("| smp | rngd | edu-rng irqs (= DMAs) | all irqs | busy CPU ms | busy % "
      "| rngd read (bytes) | entropy_avail |")
    w("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in sorted(idle, key=lambda r: (r["smp"], r["rngd"])):
        w(f"| {r['smp']} | {'running' if r['rngd'] else 'no'} "
          f"| {r.get('irqs', '-')} | {r['irqs_total']} | {r['cpu_busy_ms']:.0f} "
          f"| {r['cpu_busy_pct']:.1f} | {r.get('rngd_bytes_read', '-')} "
          f"| {r.get('entropy_avail', '-')} |")
    w("")

w("## Notes\n")
w("- lab-ioctl: 4 bytes per ioctl (one MMIO read of RANDOM); its read size "
  "is the bytes one loop of ioctls fills.")
w("- /dev/hwrng asks its driver for 64 bytes at a time whatever the read "
  "size, under one global mutex: null-hwrng is that path's ceiling.")
w("- Guest busy CPU does not include the device model: a generator "
  "transfer is generated and written in QEMU's main loop, outside the "
  "vCPUs.")
if bad:
    w(f"- {bad} unparsable line(s) in the serial logs were skipped.")
with open(f"{out}/results.md", "w") as f:
    f.write("\n".join(md) + "\n")

with open(f"{out}/throughput.dat", "w") as f:
    for src in SOURCES:
        pts = [full.get((src, s, 1, 2)) for s in SIZES]
        pts = [c for c in pts if c and c.get("mb_per_s") is not None]
        if pts:
            f.write(f'"{src}"\n')
            f.writelines(f"{c['read_size']} {c['mb_per_s']} {c['mb_per_s_min']} "
                         f"{c['mb_per_s_max']}\n" for c in pts)
            f.write("\n\n")
PY
}

plot() {
	local n
	n=$(grep -c '^"' "$OUT/throughput.dat" || true)
	[ "$n" -gt 0 ] || { echo "bench: no smp 2 data to plot" >&2; return 0; }
	gnuplot <<GP
set terminal pngcairo size 960,600 font "sans,11"
set output "$OUT/throughput.png"
set title "Throughput by read size (guest smp 2, 1 reader, TCG; median and range of the rounds)"
set logscale xy
set xlabel "read size (bytes)"
set ylabel "MB/s (log)"
set xtics ("64 B" 64, "4 KiB" 4096, "64 KiB" 65536)
set xrange [40:100000]
set grid
set key outside right
plot for [i=0:$((n - 1))] "$OUT/throughput.dat" index i using 1:2:3:4 \
	with yerrorlines lw 2 pt 7 title columnheader(1)
GP
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
	plot || echo "bench: gnuplot failed, no throughput.png" >&2
	cat "$OUT/results.md"
	echo "bench: done in $((SECONDS - START)) s; results in ${OUT#"$TOP"/}/" >&2
}

main "$@"
