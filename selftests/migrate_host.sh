#!/bin/bash
# Host side of migration and cloning (the guest-migrate and guest-clone
# suites): boot a guest running selftests/migrate_test.sh, migrate it over
# QMP to a file while it reads the device, and go on with it in a second
# QEMU started with the same command line plus -incoming (run-vm
# --full-initrd --incoming); or restore one saved state twice, one clone
# after the other, and compare what the clones read.
#
# Usage: selftests/migrate_host.sh OUTDIR CASE... [-- RUN-VM-OPTION...]
#   msi           MSI, seed 42's stream read across the migration: exact;
#                 the source is left stopped until the destination ends
#   msi-pending   the same with dma-latency-ns=200000000: a generator
#                 transfer is pending when the source stops; the source
#                 quits once the destination runs
#   intx, intx-pending   the same two with INTx (msi=off, edu.irq=intx)
#   clone-host    host-entropy mode, saved once, restored twice (with
#                 -device vmgenid): the clones' bytes must differ
#   clone-seeded  seeded: the clones' bytes must be equal, the stream's
#   cross-msi, cross-msi-pending   msi and msi-pending from one QEMU to
#                 another: the source runs $SRC_QEMU, the destination
#                 $DST_QEMU (e.g. 7.2 to 10.2), both -M $CROSS_MACHINE
#                 (default pc-q35-7.2, the machine both have)
# Serial logs and run-vm's output go to OUTDIR/<case>.<src|dst|dst1|dst2>.
# Without the cross- prefix both QEMUs are run-vm's (QEMU=, QEMU_VERSION=).
# Output is TAP, one line per check, the guest's checks prefixed with the
# case (and the clone).  Exit status 1 when a check failed.
#
# The host tells the guest that the destination runs on a second serial
# port: a socket chardev on the destination, null on the source.
set -eu
# shellcheck source=../scripts/common.sh
. "$(dirname "$0")/../scripts/common.sh"

[ $# -ge 2 ] || die "usage: $0 OUTDIR CASE... [-- RUN-VM-OPTION...]"
OUTDIR=$1
shift
CASES=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	CASES+=("$1")
	shift
done
[ $# -eq 0 ] || shift
STREAM=$BUILD/selftests/edu-rng-stream
[ -x "$STREAM" ] || die "no $STREAM (make -C selftests)"
mkdir -p "$OUTDIR"

# a short path: unix socket names are limited to 107 bytes
DIR=$(mktemp -d /tmp/edu-rng-migrate.XXXXXX)
trap 'rm -rf "$DIR"' EXIT

PYTHONPATH=$TOP/selftests python3 - "$TOP" "$STREAM" "$OUTDIR" "$DIR" "${CASES[@]}" -- "$@" <<'PY'
import os, re, socket, subprocess, sys, time
from qmp import Qmp

top, stream, outdir, tmp = sys.argv[1:5]
rest = sys.argv[5:]
cases = rest[:rest.index("--")]
runvm_opts = rest[rest.index("--") + 1:]
RUN_VM = os.path.join(top, "qemu/run-vm")
STEP = 240          # s the guest may take to ask for the migration
CROSS_MACHINE = os.environ.get("CROSS_MACHINE", "pc-q35-7.2")
LATENCY = 200000000  # ns per generator transfer in the *-pending cases
# The kernel disabling an interrupt line that stays raised with no handler
# claiming it (spurious.c: "irq N: nobody cared", "Disabling IRQ #N"), a
# report run-vm does not fail a run on.
STORM_RE = re.compile(r"\[ *\d+\.\d+\] (irq \d+: nobody cared|Disabling IRQ #\d+)")

n = 0
failed = 0

def tap(good, what):
    global n, failed
    n += 1
    if not good:
        failed += 1
    print(f"{'ok' if good else 'not ok'} {n} {what}", flush=True)

def note(msg):
    print(f"# {msg}", flush=True)

CLONE_HEX = 16384  # bytes of each read a clone prints (migrate_test.sh)

def shared_window(blobs, w=16):
    """The first w-byte window found in two places of blobs: (i, off, j,
    off), or None.  Clones of one saved state that each hand out the same
    bytes (a replayed buffer) share such windows; fresh random bytes do
    not (a chance match of 16 bytes: about 2^-100 here)."""
    seen = {}
    for i, b in enumerate(blobs):
        for off in range(len(b) - w + 1):
            k = b[off:off + w]
            if k in seen:
                return seen[k] + (i, off)
            seen[k] = (i, off)
    return None

def clone_bytes(path):
    """The hex lines a clone printed: {"direct": bytes, "hw": bytes}"""
    got = {"direct": [], "hw": []}
    for m in re.finditer(r"edu-rng-clone-hex: (direct|hw) ([0-9a-f]+)",
                         log_text(path)):
        got[m.group(1)].append(m.group(2))
    return {k: bytes.fromhex("".join(v)) for k, v in got.items()}

def alive(p):
    return p.poll() is None

def log_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace").replace("\r", "")
    except FileNotFoundError:
        return ""

def wait_log(path, marker, proc, timeout):
    end = time.monotonic() + timeout
    while marker not in log_text(path):
        if time.monotonic() > end:
            raise RuntimeError(f"no '{marker}' within {timeout} s")
        if not alive(proc):
            raise RuntimeError(f"the guest ended before '{marker}'")
        time.sleep(0.05)    # bounded poll of the log

def wait_proc(p, timeout):
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        return p.wait()

def base_case(case):
    """cross-msi is msi, between two QEMUs"""
    return case[len("cross-"):] if case.startswith("cross-") else case

def cross_qemu(case, role):
    """run-vm options picking the QEMU of a cross- case's role"""
    if not case.startswith("cross-"):
        return []
    return ["--qemu", os.environ["SRC_QEMU" if role == "src" else "DST_QEMU"]]

class Vm:
    """One qemu/run-vm; role is src, dst, dst1 or dst2."""
    def __init__(self, case, role, opts, qemu_args):
        self.role = role
        self.log = os.path.join(outdir, f"{case}.{role}.log")
        self.out = os.path.join(outdir, f"{case}.{role}.out")
        self.qmp_path = os.path.join(tmp, f"{role}.qmp")
        cmd = [RUN_VM, "--log", self.log, "--qmp", self.qmp_path] + opts + \
              cross_qemu(case, role) + runvm_opts + ["--no-edu", "--"] + qemu_args
        with open(self.out, "w") as out:
            self.p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                      stdout=out, stderr=subprocess.STDOUT)
        self.qmp = None
        self.rc = None
        self.noted = False

    def connect(self):
        self.qmp = Qmp(self.qmp_path, lambda: alive(self.p), STEP)
        return self.qmp

    def finish(self, timeout):
        if self.rc is None:
            self.rc = wait_proc(self.p, timeout)
        if not self.noted:
            self.noted = True
            # run-vm's word on failures, and its run time
            for line in log_text(self.out).splitlines():
                if (line.startswith("run-vm:") and "(--outgoing" not in line
                        and not re.search(r"guest done in \d+ s, status 0$", line)):
                    note(f"{self.role}: {line}")
        return self.rc

    def stop(self):
        if alive(self.p):
            if self.qmp:
                self.qmp.quit()
            else:
                self.p.terminate()
        return self.finish(60)

# the guest's TAP lines (and comments) from a serial log, as ours; with
# @whole, the log holds the guest's end: its plan (1..N) must be there and
# N its last test's number, or the guest script stopped early
def guest_tap(path, label, whole=False):
    last, plan = 0, None
    for line in log_text(path).splitlines():
        m = re.match(r"^(not ok|ok) (\d+) (.*)$", line)
        if m:
            tap(m.group(1) == "ok", f"{label}: {m.group(3)}")
            last = int(m.group(2))
        elif re.match(r"^1\.\.\d+$", line):
            plan = int(line[3:])
        elif line.startswith("# ") and not re.match(r"# \d+ passed, \d+ failed$", line):
            note(f"{label}: {line[2:]}")
    if whole:
        tap(plan is not None and plan == last,
            f"{label}: the guest ran its whole plan (1..{plan}, last test {last})")

def migrate(src, state):
    """QMP migrate of src to the file state; returns a description."""
    q = src.qmp
    q.cmd("migrate-set-parameters", **{"max-bandwidth": 1 << 30})
    t0 = time.monotonic()
    q.cmd("migrate", uri=f"exec:cat > {state}")
    while True:
        info = q.cmd("query-migrate")
        st = info.get("status")
        if st == "completed":
            break
        if st in ("failed", "cancelled"):
            raise RuntimeError(f"migration {st}: {info.get('error-desc', '')}")
        if time.monotonic() - t0 > 300:
            raise RuntimeError(f"migration not done in 300 s ({st})")
        time.sleep(0.1)     # bounded poll of the migration's status
    size = os.path.getsize(state)
    return (f"{size / 2**20:.1f} MiB in {info.get('total-time', 0) / 1000:.1f} s, "
            f"downtime {info.get('downtime', '?')} ms")

def resume(dst):
    """Wait for the destination to run, then tell its guest."""
    q = dst.connect()
    end = time.monotonic() + 120
    while q.cmd("query-status").get("status") != "running":
        if time.monotonic() > end:
            raise RuntimeError("the destination did not run within 120 s")
        time.sleep(0.05)    # bounded poll of the run state
    s = socket.socket(socket.AF_UNIX)
    s.connect(os.path.join(tmp, f"{dst.role}.ctl"))
    s.sendall(b"resumed\n")
    wait_log(dst.log, "edu-rng-migrate: resumed", dst.p, 60)
    s.close()

def qemu_args(case, role):
    args = ["-M", CROSS_MACHINE] if case.startswith("cross-") else []
    case = base_case(case)
    dev = "edu-rng"
    if case.startswith("intx"):
        dev += ",msi=off"
    if case.endswith("-pending"):
        dev += f",dma-latency-ns={LATENCY}"
    args += ["-device", dev]
    if case.startswith("clone"):
        args += ["-device", "vmgenid"]
    else:
        args += ["-device", "virtio-rng-pci"]
    if role == "src":
        args += ["-chardev", "null,id=ctl"]
    else:
        path = os.path.join(tmp, f"{role}.ctl")
        args += ["-chardev", f"socket,id=ctl,path={path},server=on,wait=off"]
    return args + ["-serial", "chardev:ctl"]

def common_opts(case):
    case = base_case(case)
    irq = "intx" if case.startswith("intx") else "msi"
    mode = case if case.startswith("clone") else "stream"
    pending = " edu.pending=1" if case.endswith("-pending") else ""
    return ["--append", f"edu.irq={irq} edu.migrate={mode}{pending}"]

def run_case(case):
    for f in os.listdir(tmp):
        os.unlink(os.path.join(tmp, f))
    initrd = os.path.join(tmp, "initrd")
    state = os.path.join(tmp, "state")
    clone = case.startswith("clone")
    keep_source = base_case(case) == "msi"
    t0 = time.monotonic()
    if case.startswith("cross-"):
        for role, var in (("src", "SRC_QEMU"), ("dst", "DST_QEMU")):
            path = os.environ.get(var, "")
            if not os.access(path, os.X_OK):
                tap(False, f"{case}: {var} is no QEMU binary ('{path}')")
                return
            ver = subprocess.run([path, "--version"], stdout=subprocess.PIPE,
                                 text=True).stdout.splitlines()
            note(f"{case}: {role} {ver[0] if ver else '?'}, -M {CROSS_MACHINE}")
    src = Vm(case, "src", common_opts(case) + [
        "--exec", os.path.join(top, "selftests/migrate_test.sh"),
        "--add", os.path.join(top, "selftests/tap.sh") + ":/exec/",
        "--add", stream + ":/exec/", "--save-initrd", initrd, "--outgoing"],
        qemu_args(case, "src"))
    dsts = []
    try:
        src.connect()
        wait_log(src.log, "edu-rng-migrate: ready", src.p, STEP)
        how = migrate(src, state)
        tap(True, f"{case}: migrated to a file mid-{'idle' if clone else 'stream'} ({how})")
        st = src.qmp.cmd("query-status").get("status")
        tap(st == "postmigrate", f"{case}: the source stopped after the migration ({st})")
        if clone:
            src.stop()
        for role in (["dst1", "dst2"] if clone else ["dst"]):
            dst = Vm(case, role, common_opts(case) + [
                "--full-initrd", initrd, "--incoming", f"exec:cat {state}"],
                qemu_args(case, role))
            dsts.append(dst)
            resume(dst)
            tap(True, f"{case}: {role} resumed from the saved state, the guest told")
            if not clone and not keep_source:
                src.stop()
            dst.finish(900)
    except (RuntimeError, OSError, ValueError) as e:
        tap(False, f"{case}: {e}")
    for v in dsts:
        if alive(v.p):
            v.stop()
    src_rc = src.stop()
    guest_tap(src.log, f"{case} (source)")
    for v in dsts:
        guest_tap(v.log, f"{case} ({v.role})", whole=True)
        m = re.findall(r"EDU_RNG_EXIT=(\d+)", log_text(v.log))
        tap(bool(m), f"{case}: {v.role}'s guest went on to its end "
            f"(payload status {m[-1] if m else 'none'}, run-vm status {v.rc})")
        bad = "guest kernel reported problems" in log_text(v.out)
        tap(not bad and v.rc != 124, f"{case}: no kernel WARNING, BUG or Oops in {v.role}'s log"
            f"{' (timed out)' if v.rc == 124 else ''}")
        storm = STORM_RE.findall(log_text(v.log))
        tap(not storm, f"{case}: no unhandled interrupt storm in {v.role}'s log"
            f"{': ' + '; '.join(storm) if storm else ''}")
    tap(src_rc == 0, f"{case}: the source QEMU "
        f"{'stayed stopped until the destination ended, then ' if keep_source else ''}"
        f"quit (run-vm status {src_rc}: no kernel report before the migration)")
    storm = STORM_RE.findall(log_text(src.log))
    tap(not storm, f"{case}: no unhandled interrupt storm in src's log"
        f"{': ' + '; '.join(storm) if storm else ''}")
    if clone:
        hashes = []
        for v in dsts:
            m = re.findall(r"edu-rng-clone: edu-rng0 (\w+) hwrng (\w+)", log_text(v.log))
            hashes.append(m[-1] if m else None)
        if len(hashes) == 2 and None not in hashes:
            # seeded, the device is no hwrng: two reads of /dev/edu-rng0
            second = "/dev/hwrng" if case == "clone-host" else "/dev/edu-rng0 again"
            for i, what in enumerate(["/dev/edu-rng0", second]):
                a, b = hashes[0][i], hashes[1][i]
                note(f"{case}: {what} sha256 clone 1 {a[:16]}, clone 2 {b[:16]}")
                if case == "clone-host":
                    tap(a != b, f"{case}: the two clones' {what} bytes differ")
                else:
                    tap(a == b, f"{case}: the two clones' {what} bytes are the same")
        else:
            tap(False, f"{case}: both clones reported their hashes")
        got = [clone_bytes(v.log) for v in dsts]
        size = CLONE_HEX
        whole = len(got) == 2 and all(len(g[k]) == size for g in got
                                      for k in ("direct", "hw"))
        if not whole:
            tap(False, f"{case}: both clones printed {size} bytes of each read")
        elif case == "clone-host":
            blobs = [g[k] for g in got for k in ("direct", "hw")]
            hit = shared_window(blobs)
            names = ["clone 1 /dev/edu-rng0", "clone 1 /dev/hwrng",
                     "clone 2 /dev/edu-rng0", "clone 2 /dev/hwrng"]
            tap(hit is None, f"{case}: no 16 bytes in two places of the clones' "
                f"first {size} bytes of each read" + (
                    f" (found at {names[hit[0]]} +{hit[1]} and "
                    f"{names[hit[2]]} +{hit[3]})" if hit else ""))
        else:
            tap(got[0] == got[1] and shared_window(
                [got[0]["direct"], got[0]["hw"]]) is None,
                f"{case}: the clones' first {size} bytes of each read are the "
                f"same, and the two reads share no 16 bytes")
    note(f"{case}: {time.monotonic() - t0:.0f} s")

known = {"msi", "msi-pending", "intx", "intx-pending", "clone-host", "clone-seeded",
         "cross-msi", "cross-msi-pending"}
print("TAP version 13", flush=True)
if any(c.startswith("clone") for c in cases):
    # the replay check itself, on made-up bytes
    a, b = os.urandom(CLONE_HEX), bytearray(os.urandom(CLONE_HEX))
    b[3000:3000 + 4096] = a[100:100 + 4096]
    tap(shared_window([a, os.urandom(CLONE_HEX)]) is None and
        shared_window([a, bytes(b)]) == (0, 100, 1, 3000),
        "clone check: finds 4 KiB of one made-up clone's bytes in the "
        "other, nothing in fresh random bytes")
for case in cases:
    if case not in known:
        tap(False, f"{case}: no such case")
        continue
    run_case(case)
print(f"1..{n}")
print(f"# {n - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
PY
