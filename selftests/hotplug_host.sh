#!/bin/bash
# Host side of hot removal under load (the guest-hotplug suite): boot a
# guest whose edu-rng sits in a pcie-root-port, run selftests/hotplug_test.sh
# in it, and remove and add the device over QMP each time the guest asks.
#
# Usage: selftests/hotplug_host.sh LOG [RUN-VM-OPTION]...
#   LOG is the serial log (run-vm --log), where the guest's requests
#   appear: "edu-rng-hotplug: remove N" -> device_del, then wait for QEMU's
#   DEVICE_DELETED event; "edu-rng-hotplug: add N" -> device_add;
#   "edu-rng-hotplug: done" ends.  Options go to qemu/run-vm (e.g.
#   --timeout, --append edu.cycles=N).  Exit status: run-vm's, else 1 when
#   the QMP side failed.
#
# Why ACPI hotplug: QEMU 7.2's q35 (machine types from 6.1 on) has
# ICH9-LPC.acpi-pci-hotplug-with-bridge-support=on, so a pcie-root-port's
# slot is hot-plugged through ACPI (the kernel's acpiphp) and its native
# PCIe hotplug capability is hidden.  device_del then costs one GPE and
# _EJ0 round trip; native pciehp would add the attention button's 5 s
# delay to every removal.  edu-rng is a conventional PCI device; QEMU lets
# one sit on a root port's (express) bus, as a legacy endpoint.
# Both ways, QEMU's device_del asks the guest first: the driver's remove
# runs while the device still answers, and QEMU deletes it after the
# guest ejected it.
set -eu
# shellcheck source=../scripts/common.sh
. "$(dirname "$0")/../scripts/common.sh"

[ $# -ge 1 ] || die "usage: $0 LOG [RUN-VM-OPTION]..."
LOG=$1
shift
STREAM=$BUILD/selftests/edu-rng-stream
[ -x "$STREAM" ] || die "no $STREAM (make -C selftests)"

# a short path: unix socket names are limited to 107 bytes
DIR=$(mktemp -d /tmp/edu-rng-hotplug.XXXXXX)
trap 'rm -rf "$DIR"' EXIT
mkdir -p "$(dirname "$LOG")"
rm -f "$LOG"

"$TOP/qemu/run-vm" --log "$LOG" --qmp "$DIR/qmp" \
	--exec "$TOP/selftests/hotplug_test.sh" \
	--add "$TOP/selftests/tap.sh:/exec/" --add "$STREAM:/exec/" "$@" \
	--no-edu -- -device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1 \
	-device edu-rng,id=rng,bus=rp1 &
VM=$!

# The QMP side's messages wait until the guest's console output is done.
QRC=0
PYTHONPATH=$TOP/selftests python3 - "$DIR/qmp" "$LOG" "$VM" 2>"$DIR/qmp.log" <<'PY' || QRC=$?
import re, sys, time
from qmp import Qmp

qmp_path, log_path, vm_pid = sys.argv[1], sys.argv[2], int(sys.argv[3])
STEP = 240      # s the guest may take from one request to the next (its
                # own bounds add up to less, so its TAP gets out)
DELETE = 60     # s from device_del to DEVICE_DELETED

def say(msg):
    print(f"hotplug_host: {msg}", file=sys.stderr, flush=True)

def vm_running():
    try:
        with open(f"/proc/{vm_pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False

# The guest's requests, in order, from the serial log.
class Log:
    def __init__(self, path):
        self.path, self.text, self.pos = path, "", 0

    def wait(self, want):
        pat = re.compile(rf"edu-rng-hotplug: (?:({want})|(done))\b")
        end = time.monotonic() + STEP
        while True:
            try:
                with open(self.path, "rb") as f:
                    self.text = f.read().decode("utf-8", "replace")
            except FileNotFoundError:
                pass
            m = pat.search(self.text, self.pos)
            if m:
                self.pos = m.end()
                return m.group(1) or m.group(2)
            if time.monotonic() > end:
                raise RuntimeError(f"the guest did not ask for '{want}' within {STEP} s")
            if not vm_running():
                raise RuntimeError(f"the guest ended before asking for '{want}'")
            time.sleep(0.05)    # bounded poll of the log

qmp = None
try:
    qmp = Qmp(qmp_path, vm_running, STEP)
    log = Log(log_path)
    n, deleted = 1, []
    while True:
        if log.wait(f"remove {n}") == "done":
            break
        t0 = time.monotonic()
        qmp.cmd("device_del", id="rng")
        qmp.wait_event("DEVICE_DELETED", "rng", DELETE)
        deleted.append(time.monotonic() - t0)
        if log.wait(f"add {n}") == "done":
            break
        qmp.cmd("device_add", driver="edu-rng", id="rng", bus="rp1")
        n += 1
    if deleted:
        say(f"{len(deleted)} device_del, {n - 1} device_add; device_del to "
            f"DEVICE_DELETED {min(deleted):.2f}-{max(deleted):.2f} s")
except (RuntimeError, OSError, ValueError) as e:
    say(str(e))
    # end the guest now rather than at its timeouts
    if qmp:
        qmp.quit()
    sys.exit(1)
PY

RC=0
wait "$VM" || RC=$?
cat "$DIR/qmp.log" >&2
[ "$RC" -ne 0 ] || RC=$QRC
exit "$RC"
