#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""make bench's report: results.json, samples.json, results.md and the
plots' data (throughput.dat, scaling.dat) from the guests' JSON lines.

Usage: report.py OUT KVER QEMU SECS SCALE LOAD0 LOAD1 CPU JSONL...
"""
import json
import math
import statistics
import sys

out, kver, qemu, secs, scale, load0, load1, cpu = sys.argv[1:9]
SOURCES = ["edu-rng", "edu-rng-direct", "virtio-rng", "lab-ioctl",
           "null-hwrng", "null-cdev", "urandom", "zero"]
SIZES, READERS = [64, 4096, 65536], [1, 2, 4]
HWRNG = {"edu-rng", "virtio-rng", "null-hwrng"}
# the paired comparisons (guest-bench.sh's PAIRS) and their targets
PAIRS = [("edu-rng", "null-hwrng", 65536, 1, 0.97),
         ("edu-rng-direct", "null-cdev", 65536, 1, 0.90),
         ("edu-rng-direct", "null-cdev", 65536, 4, 0.90),
         ("edu-rng-direct", "null-cdev", 1048576, 1, 0.90),
         ("edu-rng-direct", "null-cdev", 1048576, 4, 0.90)]
SCALE_SOURCES = ["edu-rng-direct", "edu-rng", "null-cdev"]
MIB = 1 << 20

rows, bad = [], 0
for path in sys.argv[9:]:
    for line in open(path):
        try:
            rows.append(json.loads(line))
        except ValueError:
            bad += 1
for r in rows:
    r.setdefault("kernel", kver)

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
kernels = sorted({r["kernel"] for r in rows},
                 key=lambda k: [int(x) if x.isdigit() else 0
                                for x in k.replace("-", ".").split(".")[:3]])


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def median_ci(vals):
    """The median's 95% confidence interval, from order statistics (no
    assumption on the distribution): (low, high), or None if too few."""
    v = sorted(vals)
    n = len(v)
    # the largest k with P(Binomial(n, 1/2) < k) <= 0.025
    k, cum = 0, 0.0
    while True:
        p = math.comb(n, k) / 2 ** n
        if cum + p > 0.025:
            break
        cum += p
        k += 1
    if k == 0:
        return None
    return v[k - 1], v[n - k]


def one(vals):
    vals = sorted({json.dumps(v) for v in vals})
    return json.loads(vals[0]) if len(vals) == 1 else " / ".join(vals)


# The same measurement of another source in the same round, guest and
# conditions: the two ran one right after the other.
def rkey(r, src=None):
    return (r["guest"], r["mode"], r["dma_latency_ns"], src or r["source"],
            r["read_size"], r["readers"], r["smp"], r["round"])


by_round = {rkey(r): r for r in samples if "error" not in r}


def paired(ok, ref, field="mb_per_s"):
    """Per-round ratios to @ref measured in that round."""
    q = []
    for r in ok:
        o = by_round.get(rkey(r, ref))
        if o and o.get(field) and r.get(field) is not None:
            q.append(r[field] / o[field])
    return q


# One cell per kernel, source, read size, readers, smp (and latency): the
# median of its rounds, each figure on its own.
groups = {}
for r in samples:
    k = (r["kernel"], r["mode"], r["dma_latency_ns"], r["source"],
         r["read_size"], r["readers"], r["smp"])
    groups.setdefault(k, []).append(r)
cells = []
for (kern, mode, lat, src, size, n, smp), g in sorted(groups.items(), key=str):
    ok = [r for r in g if "error" not in r]
    c = {"test": "throughput", "guest": g[0]["guest"], "kernel": kern,
         "mode": mode, "source": src, "path": g[0]["path"],
         "read_size": size, "readers": n, "smp": smp,
         "dma_latency_ns": lat, "ioctl": g[0]["ioctl"], "rounds": len(ok),
         "bytes": g[0]["bytes"],
         "mb_per_s": med(r["mb_per_s"] for r in ok),
         "mb_per_s_min": min((r["mb_per_s"] for r in ok), default=None),
         "mb_per_s_max": max((r["mb_per_s"] for r in ok), default=None),
         "mb_per_s_samples": [r["mb_per_s"] for r in ok],
         "mb_per_cpu_s": med(r.get("mb_per_cpu_s") for r in ok),
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
    if "devices" in g[0]:
        c["devices"] = g[0]["devices"]
    if len(ok) < len(g):
        c["errors"] = [r["error"] for r in g if "error" in r]
    for ref in ("null-hwrng", "null-cdev", "virtio-rng", "urandom", "zero"):
        c["x_" + ref.replace("-", "_")] = med(paired(ok, ref))
    cells.append(c)

# The paired rounds: one object per kernel, smp and pair.
pair_results = []
for kern in kernels:
    for smp in sorted({r["smp"] for r in samples if r["kernel"] == kern}):
        for a, b, size, n, goal in PAIRS:
            ok = [r for r in samples if r["kernel"] == kern and r["smp"] == smp
                  and r["mode"] == "pair" and r["source"] == a
                  and r["read_size"] == size and r["readers"] == n
                  and "error" not in r]
            bs = [r for r in samples if r["kernel"] == kern and r["smp"] == smp
                  and r["mode"] == "pair" and r["source"] == b
                  and r["read_size"] == size and r["readers"] == n
                  and "error" not in r]
            q = paired(ok, b)
            if not q:
                continue
            qc = paired(ok, b, "mb_per_cpu_s")

            def busy(g):
                # the readers' CPU time over the CPUs they could use
                return med(r["readers_cpu_ms"] / 1e3 / r["seconds"]
                           / min(r["readers"], r["smp"]) for r in g)

            ci = median_ci(q)
            pair_results.append({
                "test": "pair", "kernel": kern, "smp": smp, "source": a,
                "reference": b, "read_size": size, "readers": n,
                "pairs": len(q), "ratio": med(q),
                "ratio_ci95": list(ci) if ci else None,
                "ratio_quartiles": (list(statistics.quantiles(q, n=4))
                                    if len(q) > 1 else None),
                "ratios": q, "cpu_ratio": med(qc), "cpu_ratios": qc,
                "mb_per_s": med(r["mb_per_s"] for r in ok),
                "ref_mb_per_s": med(r["mb_per_s"] for r in bs),
                "readers_busy": busy(ok), "ref_readers_busy": busy(bs),
                "target": goal, "met": med(q) >= goal})
for m in missing:
    combos = [(65536, 1)] if m["mode"] == "sweep" else \
        [(s, n) for s in SIZES for n in READERS]
    for size, n in combos:
        cells.append(dict(m, test="throughput", read_size=size, readers=n,
                          mb_per_s=None))
with open(f"{out}/results.json", "w") as f:
    json.dump(cells + pair_results + ttfb + idle, f, indent=1)
    f.write("\n")

full = {(c["kernel"], c["source"], c["read_size"], c["readers"], c["smp"]): c
        for c in cells if c["mode"] == "full"}
sweep = sorted((c for c in cells if c["mode"] == "sweep"),
               key=lambda c: (c["dma_latency_ns"], c["source"]))
scaling = {(c["source"], c["read_size"], c["readers"]): c
           for c in cells if c["mode"] == "scale"}
smps = sorted({c["smp"] for c in full.values()} |
              {p["smp"] for p in pair_results})
rounds = [c["rounds"] for c in full.values() if "rounds" in c]
main_rounds, target_rounds = min(rounds, default=0), max(rounds, default=0)
sweep_rounds = max((c.get("rounds", 0) for c in sweep), default=0)
npairs = max((p["pairs"] for p in pair_results), default=0)


def size_name(n):
    if n >= MIB:
        return f"{n // MIB} MiB"
    return f"{n // 1024} KiB" if n >= 1024 else f"{n} B"


def num(v):
    if v is None:
        return "-"
    return f"{v:,.0f}" if v >= 1000 else f"{v:.3g}"


def pct(v):
    return "-" if v is None else f"{100 * v:.0f}%"


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
w(f"Guest kernels {', '.join(kernels)}, CPU model {cpu}; QEMU `{qemu}` under "
  f"TCG; host load average {load0} at start, {load1} at end; whole run "
  f"{secs} s" + (f"; byte counts divided by {scale}" if scale != "1" else "")
  + ".\n")
w(f"Paired rounds ({npairs} per pair): a source and its reference measured "
  "one right after the other, in the order A B, B A, A B, ...; the ratio "
  "is taken within each round and the median of those is reported, with "
  "its 95% confidence interval (order statistics) and the same median over "
  "the readers' own CPU time (bytes per CPU second of the reader "
  "processes); readers busy: their CPU time over the wall time of the "
  "CPUs they could use (a reader waiting for the device sleeps).  Before every measurement of edu-rng, edu-rng-direct, "
  "null-hwrng and null-cdev, 1 MiB (the ring) is read and thrown away.  "
  f"Other figures: the median of their rounds ({main_rounds} in the main "
  "guests" + (f", {target_rounds} for the targets' 64 KiB, 1-reader cells"
              if target_rounds > main_rounds else "")
  + (f", {sweep_rounds} in the sweep" if sweep_rounds else "")
  + "; range: slowest-fastest), the rounds interleaved across sources.  "
  "MB/s = 10^6 bytes/s.  irqs/MiB: the device's own interrupt line "
  "(edu-rng-<BDF>; virtio lines for virtio-rng).  CPU ms/MiB: guest busy "
  "time over all vCPUs (/proc/stat, 10 ms ticks).  Method: "
  "Documentation/bench.rst.\n")
nr = sum(1 for r in samples if r["rngd"] or r["rngd_after"])
w(f"rngd ran during {nr} of {len(samples)} throughput samples; rng_current "
  "was selected and read back right before each sample, rng_quality never "
  "written.\n")


def pair_of(kern, smp, a, b, size, n):
    for p in pair_results:
        if (p["kernel"], p["smp"], p["source"], p["reference"],
                p["read_size"], p["readers"]) == (kern, smp, a, b, size, n):
            return p
    return None


def target_rows(kern):
    def x(src, ref, smp, size=65536, n=1):
        c = full.get((kern, src, size, n, smp))
        return c.get("x_" + ref.replace("-", "_")) if c else None

    rows = []
    for smp in smps:
        for a, b, size, n, goal in PAIRS:
            p = pair_of(kern, smp, a, b, size, n)
            got = "-" if p is None else num(p["ratio"]) + "x"
            rows.append((f"{a} / {b}, {size_name(size)}, {n} reader"
                         f"{'s' if n > 1 else ''}, smp {smp} (paired)",
                         f">= {goal}x", got, p is not None and p["met"]))
        for src, ref, goal in (("edu-rng", "virtio-rng", 50),
                               ("edu-rng-direct", "null-hwrng", 5),
                               ("edu-rng-direct", "urandom", 5)):
            v = x(src, ref, smp)
            if v is None and not any(k[0] == kern for k in full):
                continue
            rows.append((f"{src} / {ref}, 64 KiB, 1 reader, smp {smp}",
                         f">= {goal}x", "-" if v is None else num(v) + "x",
                         v is not None and v >= goal))
    v = [c["irqs_per_mib"] for k, c in full.items()
         if k[0] == kern and c["source"] in ("edu-rng", "edu-rng-direct")
         and c.get("irqs_per_mib") is not None]
    if v:
        rows.append(("edu-rng interrupts per MiB, worst cell", "<= 64",
                     num(max(v)), max(v) <= 64))
    d = [r.get("irqs") for r in idle if r["kernel"] == kern]
    if d:
        rows.append(("edu-rng DMAs in 2 s idle (with and without rngd)", "0",
                     " / ".join(str(i) for i in d), all(i == 0 for i in d)))
    return rows


for kern in kernels:
    tr = target_rows(kern)
    if not tr:
        continue
    w(f"## Targets, {kern}\n")
    w("| what | target | this run | met |")
    w("| --- | ---: | ---: | --- |")
    for what, goal, got, met in tr:
        w(f"| {what} | {goal} | {got} | {'yes' if met else 'no'} |")
    w("")

if pair_results:
    w("## Paired rounds\n")
    w("| kernel | smp | source / reference | read | readers | pairs "
      "| MB/s | ref MB/s | ratio | 95% CI | quartiles | ratio of CPU time "
      "| readers busy | ref busy | target |")
    w("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
      "| ---: | ---: | ---: | ---: | ---: |")
    for p in pair_results:
        ci = p["ratio_ci95"]
        qs = p["ratio_quartiles"]
        cr = "-" if p["cpu_ratio"] is None else f"{p['cpu_ratio']:.3f}"
        w(f"| {p['kernel']} | {p['smp']} | {p['source']} / {p['reference']} "
          f"| {size_name(p['read_size'])} | {p['readers']} | {p['pairs']} "
          f"| {num(p['mb_per_s'])} | {num(p['ref_mb_per_s'])} "
          f"| {p['ratio']:.3f} "
          f"| {f'{ci[0]:.3f}-{ci[1]:.3f}' if ci else '-'} "
          f"| {f'{qs[0]:.3f}-{qs[2]:.3f}' if qs else '-'} "
          f"| {cr} | {pct(p['readers_busy'])} | {pct(p['ref_readers_busy'])} "
          f"| {p['target']} {'met' if p['met'] else 'NOT met'} |")
    w("")

if scaling:
    devs = sorted({k[2] for k in scaling})
    w("## Scaling: aggregate MB/s, N devices, one reader each (smp 2)\n")
    w("edu-rng-direct: reader i reads /dev/edu-rng<i>; edu-rng: N readers of "
      "/dev/hwrng (one current rng whatever the number of devices); "
      "null-cdev: N readers of /dev/null-cdev, the ceiling.  The guest has "
      "four devices; those not read cost nothing (no DMA while their ring "
      "is full).  In brackets: the aggregate over N devices divided by "
      "that of one.\n")
    w("| source | read | " + " | ".join(f"{d} dev" for d in devs) + " |")
    w("| --- | ---: | " + " | ".join("---:" for _ in devs) + " |")
    for src in SCALE_SOURCES:
        for size in sorted({k[1] for k in scaling}):
            base = scaling.get((src, size, 1), {}).get("mb_per_s")
            vals = []
            for d in devs:
                c = scaling.get((src, size, d))
                v = c["mb_per_s"] if c else None
                s = num(v)
                if v and base and d > 1:
                    s += f" ({v / base:.2f}x)"
                vals.append(s)
            w(f"| {src} | {size_name(size)} | " + " | ".join(vals) + " |")
    w("")

for kern in kernels:
    if not any(k[0] == kern for k in full):
        continue
    w(f"## At a glance: MB/s, {kern}, guest smp 2, 1 reader\n")
    w("| source | 64 B | 4 KiB | 64 KiB |")
    w("| --- | ---: | ---: | ---: |")
    for src in SOURCES:
        cs = [full.get((kern, src, s, 1, 2)) for s in SIZES]
        w(f"| {src} | " + " | ".join("missing" if c and "missing" in c
                                       else mbs(c) if c else "-"
                                       for c in cs) + " |")
    w("")

    w(f"## Throughput, {kern}\n")
    w("| source | read | readers | smp | MB/s | range | x null-hwrng "
      "| x null-cdev | x virtio-rng | irqs/MiB | CPU ms/MiB "
      "| rng_current (quality) |")
    w("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
      "| ---: | --- |")
    for src in SOURCES:
        for size in SIZES:
            for n in READERS:
                for smp in smps:
                    c = full.get((kern, src, size, n, smp))
                    lead = f"| {src} | {size_name(size)} | {n} | {smp} |"
                    if c is None:
                        w(f"{lead} not measured | | | | | | | |")
                    elif c.get("mb_per_s") is None:
                        w(f"{lead} {mbs(c)} | | | | | | | {state(c)} |")
                    else:
                        w(f"{lead} {mbs(c)} | {spread(c)} "
                          f"| {ratio(c, 'null-hwrng')} "
                          f"| {ratio(c, 'null-cdev')} "
                          f"| {ratio(c, 'virtio-rng')} "
                          f"| {num(c['irqs_per_mib'])} "
                          f"| {num(c['cpu_ms_per_mib'])} | {state(c)} |")
    w("")

if sweep:
    w("## DMA latency sweep: 64 KiB reads, 1 reader, smp 2\n")
    w("One guest per `-global edu-rng.dma-latency-ns=N`.  Host load differs "
      "between guests, so each guest also measures null-hwrng and zero: "
      "the ratios to them are the figures to compare across latencies.\n")
    w("| dma-latency-ns | source | MB/s | range | x null-hwrng | x zero "
      "| irqs/MiB | CPU ms/MiB |")
    w("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for c in sweep:
        if c["source"] not in ("edu-rng", "edu-rng-direct"):
            continue
        if c.get("mb_per_s") is None:
            w(f"| {c['dma_latency_ns']} | {c['source']} | {mbs(c)} | | | | | |")
        else:
            w(f"| {c['dma_latency_ns']} | {c['source']} | {mbs(c)} "
              f"| {spread(c)} | {ratio(c, 'null-hwrng')} | {ratio(c, 'zero')} "
              f"| {num(c['irqs_per_mib'])} | {num(c['cpu_ms_per_mib'])} |")
    w("")

if ttfb:
    w("## Time to first byte after a seed (64-byte read, 5 seeds)\n")
    w("From the write to `/sys/bus/pci/devices/<BDF>/seed` until a 64-byte "
      "read of /dev/edu-rng0 returns.  A seeded device is no hwrng: its "
      "stream has no /dev/hwrng path.\n")
    w("| kernel | source | smp | median us | min us | max us "
      "| seed write us | read us |")
    w("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kern in kernels:
        for smp in smps:
            g = [r for r in ttfb if r["smp"] == smp and r["kernel"] == kern]
            ok = [r for r in g if "error" not in r]
            if not ok:
                if g:
                    w(f"| {kern} | edu-rng-direct | {smp} "
                      f"| error: {g[0]['error']} | | | | |")
                continue
            t = [r["ttfb_us"] for r in ok]
            w(f"| {kern} | edu-rng-direct | {smp} | {med(t):.0f} "
              f"| {min(t):.0f} | {max(t):.0f} "
              f"| {med(r['seed_write_us'] for r in ok):.0f} "
              f"| {med(r['read_us'] for r in ok):.0f} |")
    w("")

if idle:
    w("## Idle cost: 2 s with edu-rng current and the pool full\n")
    w("| kernel | smp | rngd | edu-rng irqs (= DMAs) | all irqs | busy CPU ms "
      "| busy % | rngd read (bytes) | entropy_avail |")
    w("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in sorted(idle, key=lambda r: (r["kernel"], r["smp"], r["rngd"])):
        w(f"| {r['kernel']} | {r['smp']} | {'running' if r['rngd'] else 'no'} "
          f"| {r.get('irqs', '-')} | {r['irqs_total']} | {r['cpu_busy_ms']:.0f} "
          f"| {r['cpu_busy_pct']:.1f} | {r.get('rngd_bytes_read', '-')} "
          f"| {r.get('entropy_avail', '-')} |")
    w("")

w("## Notes\n")
w("- lab-ioctl: 4 bytes per ioctl (one MMIO read of RANDOM); its read size "
  "is the bytes one loop of ioctls fills.")
w("- /dev/hwrng asks its driver for 64 bytes at a time whatever the read "
  "size, under one global mutex: null-hwrng is that path's ceiling.")
w("- null-cdev: read() from four preallocated 256 KiB kernel buffers with "
  "the direct reader's locking (a mutex per piece, copy_to_user with page "
  "faults disabled): the ceiling of edu-rng-direct.")
w("- Guest busy CPU does not include the device model: a generator "
  "transfer is generated and written by QEMU outside the vCPUs.")
if bad:
    w(f"- {bad} unparsable line(s) in the serial logs were skipped.")
with open(f"{out}/results.md", "w") as f:
    f.write("\n".join(md) + "\n")

with open(f"{out}/throughput.dat", "w") as f:
    for src in SOURCES:
        pts = [full.get((kver, src, s, 1, 2)) for s in SIZES]
        pts = [c for c in pts if c and c.get("mb_per_s") is not None]
        if pts:
            f.write(f'"{src}"\n')
            f.writelines(f"{c['read_size']} {c['mb_per_s']} {c['mb_per_s_min']} "
                         f"{c['mb_per_s_max']}\n" for c in pts)
            f.write("\n\n")

with open(f"{out}/scaling.dat", "w") as f:
    for src in SCALE_SOURCES:
        for d in sorted({k[2] for k in scaling}):
            pts = sorted((c for k, c in scaling.items()
                          if k[0] == src and k[2] == d
                          and c.get("mb_per_s") is not None),
                         key=lambda c: c["read_size"])
            if pts:
                what = "device" if src == "edu-rng-direct" else "reader"
                f.write(f'"{src}, {d} {what}{"s" if d > 1 else ""}"\n')
                f.writelines(f"{c['read_size']} {c['mb_per_s']} "
                             f"{c['mb_per_s_min']} {c['mb_per_s_max']}\n"
                             for c in pts)
                f.write("\n\n")
