#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""
QEMU-level checks of the edu-rng device, through QEMU's qtest protocol
(-accel qtest: no guest code runs, the test drives MMIO, PCI config and
the virtual clock) and QMP.  What the core's unit tests cannot see:

  - a delayed transfer aimed at the device's own BAR0 fails (no RAM;
    the reentrancy guard stands behind that); it does not reach the
    registers;
  - generator transfers into writable registers that are no RAM (an
    8 MiB pflash, the HPET) fail at once, instead of millions of MMIO
    handler calls under the BQL;
  - nothing is written, no interrupt raised, while the VM is stopped;
    the transfer completes after cont;
  - a transfer pending at migration completes on the destination with
    the seed's bytes, and not on the source;
  - two VMs restored from one host-entropy state produce different bytes;
  - the worker thread that makes transfers' bytes: exact seeded streams
    through it over stop/cont, seeds and reset, no thread while the VM is
    stopped or after a reset, none before the first transfer.

Usage: qtest-edu-rng.py QEMU EDU_RNG_STREAM      (output is TAP)
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time

BAR = 0xfe000000
RAM = 0x100000
CFG = 0x80000000 | (4 << 11)         # bus 0, device 4, function 0
RNG_CMD = 0xf
REG = dict(RANDOM=0x00, SEED=0x04, SEED_HI=0x10, CTRL=0x18, XFER=0x1c,
           STATUS=0x20, IRQ_STATUS=0x24, IRQ_RAISE=0x60, IRQ_ACK=0x64,
           DMA_DST=0x88, DMA_COUNT=0x90, DMA_CMD=0x98)
DMA_DONE, DMA_ERROR = 0x100, 0x200
BUSY, ERROR = 1, 2

tests = failures = 0


def check(ok, what):
    global tests, failures
    tests += 1
    if not ok:
        failures += 1
    print("%sok %d - %s" % ("" if ok else "not ", tests, what), flush=True)


class Vm:
    def __init__(self, qemu, tmp, name, dev, extra=()):
        self.qsock = os.path.join(tmp, name + ".qtest")
        self.msock = os.path.join(tmp, name + ".qmp")
        ls_q = socket.socket(socket.AF_UNIX)
        ls_q.bind(self.qsock)
        ls_q.listen(1)
        self.log = open(os.path.join(tmp, name + ".log"), "w+")
        self.proc = subprocess.Popen(
            [qemu, "-machine", "pc", "-accel", "qtest", "-nodefaults",
             "-display", "none", "-m", "64", "-L", "/usr/share/seabios",
             "-L", "/usr/share/qemu",
             "-qtest", "unix:" + self.qsock,
             "-qmp", "unix:%s,server=on,wait=off" % self.msock,
             "-device", "edu-rng,addr=04.0," + dev] + list(extra),
            stdout=self.log, stderr=subprocess.STDOUT)
        ls_q.settimeout(20)
        self.q, _ = ls_q.accept()
        ls_q.close()
        self.qf = self.q.makefile("rw")
        for _ in range(100):
            if os.path.exists(self.msock):
                break
            time.sleep(0.05)
        self.m = socket.socket(socket.AF_UNIX)
        self.m.connect(self.msock)
        self.mf = self.m.makefile("rw")
        json.loads(self.mf.readline())
        self.qmp("qmp_capabilities")

    def qmp(self, cmd, **args):
        self.mf.write(json.dumps({"execute": cmd, "arguments": args}) + "\n")
        self.mf.flush()
        while True:
            r = json.loads(self.mf.readline())
            if "return" in r or "error" in r:
                return r

    def cmd(self, line):
        self.qf.write(line + "\n")
        self.qf.flush()
        while True:
            r = self.qf.readline().strip()
            if r.startswith("OK") or r.startswith("FAIL"):
                return r

    def setup(self):
        self.cmd("outl 0xcf8 0x%x" % (CFG | 0x10))
        self.cmd("outl 0xcfc 0x%x" % BAR)
        self.cmd("outl 0xcf8 0x%x" % (CFG | 0x04))
        self.cmd("outw 0xcfc 0x6")      # memory space, bus master

    def rd(self, reg):
        return int(self.cmd("readl 0x%x" % (BAR + REG[reg])).split()[1], 16)

    def wr(self, reg, val, size="l"):
        self.cmd("write%s 0x%x 0x%x" % (size, BAR + REG[reg], val))

    def mem(self, addr, n):
        r = self.cmd("read 0x%x 0x%x" % (addr, n)).split()[1]
        return bytes.fromhex(r[2:])

    def step(self, ns):
        self.cmd("clock_step %d" % ns)
        # The timer schedules a bottom half, which the main loop runs
        # before it reads a command that arrives after it was scheduled:
        # two more round trips, each answered by the main loop, leave one
        # whole iteration between the timer and the caller's next check.
        for _ in range(2):
            self.cmd("clock_step 0")

    def idle(self):
        # the worker makes the bytes: poll (each read is a round trip
        # through the main loop, which runs the completion), bounded
        for _ in range(20000):
            if not self.rd("STATUS") & BUSY:
                return True
        return False

    def threads(self, name):
        # needs -name debug-threads=on
        n = 0
        d = "/proc/%d/task" % self.proc.pid
        for t in os.listdir(d):
            try:
                with open(os.path.join(d, t, "comm")) as f:
                    n += f.read().strip() == name
            except OSError:
                pass
        return n

    def dma(self, dst, count, seed=None):
        if seed is not None:
            self.wr("SEED_HI", seed >> 32)
            self.wr("SEED", seed & 0xffffffff)
        self.wr("DMA_DST", dst, "q")
        self.wr("DMA_COUNT", count, "q")
        self.wr("DMA_CMD", RNG_CMD, "q")

    def quit(self):
        try:
            self.qmp("quit")
        except (OSError, ValueError):
            pass
        self.proc.wait(10)


def stream(tool, seed, n):
    return subprocess.run([tool, str(seed), str(n)], check=True,
                          stdout=subprocess.PIPE).stdout


def main():
    qemu, tool = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp()
    want = stream(tool, 42, 8192)
    print("TAP version 13")

    # 1. a delayed transfer into our own IRQ_RAISE register
    vm = Vm(qemu, tmp, "reent", "msi=off,dma-latency-ns=1000")
    vm.setup()
    vm.dma(BAR + REG["IRQ_RAISE"], 4, seed=42)
    vm.step(10000)
    vm.idle()
    irq, st = vm.rd("IRQ_STATUS"), vm.rd("STATUS")
    check(irq == DMA_ERROR and st & ERROR and not st & BUSY and
          not vm.rd("SEED_HI"),
          "delayed DMA into own BAR0 refused, registers untouched "
          "(IRQ_STATUS 0x%x)" % irq)
    vm.quit()

    # 1b. generator DMA into registers that take writes: refused at once
    flash = os.path.join(tmp, "flash.img")
    with open(flash, "wb") as f:
        f.truncate(8 << 20)
    vm = Vm(qemu, tmp, "noram", "msi=off,dma-max=16777216",
            ["-drive", "if=pflash,format=raw,readonly=on,file=" + flash])
    vm.setup()
    for what, dst, count in (("8 MiB into the pflash", 0xff800000, 8 << 20),
                             ("16 MiB at the HPET", 0xfed00000, 16 << 20)):
        t0 = time.monotonic()
        vm.wr("STATUS", ERROR)
        vm.dma(dst, count, seed=42)
        busy = True
        for _ in range(1000):
            busy = vm.rd("STATUS") & BUSY
            if not busy:
                break
        secs = time.monotonic() - t0
        irq = vm.rd("IRQ_STATUS")
        print("# %s: refused in %.3f s" % (what, secs), flush=True)
        check(not busy and irq & DMA_ERROR and vm.rd("XFER") == 0 and
              secs < 2, "generator DMA of %s (no RAM) fails at once "
              "(%.3f s, IRQ_STATUS 0x%x)" % (what, secs, irq))
        vm.wr("IRQ_ACK", DMA_ERROR)
    vm.quit()

    # 2. stop/cont with a transfer pending
    vm = Vm(qemu, tmp, "stop", "msi=off,dma-latency-ns=1000000")
    vm.setup()
    vm.dma(RAM, 4096, seed=42)
    vm.qmp("stop")
    vm.step(2000000000)
    check(vm.mem(RAM, 16) == bytes(16) and vm.rd("STATUS") & BUSY and
          not vm.rd("IRQ_STATUS"),
          "stopped: nothing written, no interrupt, still BUSY")
    vm.qmp("cont")
    vm.step(2000000)
    check(vm.idle() and vm.mem(RAM, 4096) == want[:4096] and
          vm.rd("IRQ_STATUS") == DMA_DONE and vm.rd("XFER") == 4096,
          "cont: the transfer completes once, with seed 42's bytes")
    vm.quit()

    # 3. migrate with a transfer pending
    state = os.path.join(tmp, "state")
    src = Vm(qemu, tmp, "src", "msi=off,dma-latency-ns=1000000")
    src.setup()
    src.dma(RAM, 4096, seed=42)
    src.step(500000)
    src.qmp("stop")
    src.qmp("migrate", uri="exec:cat > " + state)
    for _ in range(200):
        if src.qmp("query-migrate")["return"].get("status") == "completed":
            break
        time.sleep(0.05)
    src.step(2000000)
    check(src.mem(RAM, 16) == bytes(16) and not src.rd("IRQ_STATUS"),
          "migrated: the source wrote nothing, raised nothing")
    src.quit()
    dst = Vm(qemu, tmp, "dst", "msi=off,dma-latency-ns=1000000",
             ["-incoming", "exec:cat " + state])
    for _ in range(200):
        if dst.qmp("query-status")["return"]["status"] != "inmigrate":
            break
        time.sleep(0.05)
    check(dst.mem(RAM, 16) == bytes(16) and dst.rd("STATUS") & BUSY,
          "destination: loaded with the transfer pending")
    dst.qmp("cont")
    dst.step(400000)
    early = dst.mem(RAM, 16) == bytes(16)
    dst.step(200000)
    check(early and dst.idle() and dst.mem(RAM, 4096) == want[:4096] and
          dst.rd("IRQ_STATUS") == DMA_DONE,
          "destination: completes after the delay left, seed 42's bytes")
    r = dst.rd("RANDOM")
    check(r == int.from_bytes(want[4096:4100], "little"),
          "destination: the seeded stream goes on after the transfer")
    dst.quit()

    # 4. one host-entropy state restored twice: two different streams
    state = os.path.join(tmp, "state-host")
    src = Vm(qemu, tmp, "hsrc", "msi=off")
    src.setup()
    src.rd("RANDOM")
    src.qmp("stop")
    src.qmp("migrate", uri="exec:cat > " + state)
    for _ in range(200):
        if src.qmp("query-migrate")["return"].get("status") == "completed":
            break
        time.sleep(0.05)
    src.quit()
    got = []
    for name in ("clone1", "clone2"):
        vm = Vm(qemu, tmp, name, "msi=off",
                ["-incoming", "exec:cat " + state])
        for _ in range(200):
            if vm.qmp("query-status")["return"]["status"] != "inmigrate":
                break
            time.sleep(0.05)
        vm.qmp("cont")
        got.append([vm.rd("RANDOM") for _ in range(4)])
        vm.quit()
    check(got[0] != got[1],
          "host entropy: two VMs restored from one state differ")

    # 5. the worker: 256 KiB transfers of seed 42, exact
    big = 256 << 10
    want = stream(tool, 42, 5 * big + 4)
    vm = Vm(qemu, tmp, "worker", "msi=off", ["-name", "debug-threads=on"])
    vm.setup()
    vm.wr("SEED", 42)
    check(vm.threads("edu-rng-gen") == 0,
          "worker: no thread before the first transfer")
    ok = True
    for i in range(3):
        vm.dma(RAM, big)
        ok = ok and vm.idle() and vm.mem(RAM, big) == want[i * big:(i + 1) * big]
        vm.wr("IRQ_ACK", DMA_DONE)
    check(ok, "worker: three 256 KiB transfers are seed 42's stream")
    check(vm.threads("edu-rng-gen") == 1, "worker: one thread makes them")
    vm.dma(RAM, big)
    vm.qmp("stop")
    check(vm.threads("edu-rng-gen") == 0,
          "worker: joined when the VM stops")
    vm.qmp("cont")
    check(vm.idle() and vm.mem(RAM, big) == want[3 * big:4 * big],
          "worker: a transfer across stop/cont is exact")
    vm.wr("IRQ_ACK", DMA_DONE)
    r = vm.rd("RANDOM")
    vm.dma(RAM, big)
    check(r == int.from_bytes(want[4 * big:4 * big + 4], "little") and
          vm.idle() and vm.mem(RAM, big) == want[4 * big + 4:5 * big + 4],
          "worker: RANDOM between transfers, both exact")
    vm.wr("IRQ_ACK", DMA_DONE)
    vm.dma(RAM, big, seed=42)
    check(vm.idle() and vm.mem(RAM, big) == want[:big],
          "worker: a seed drops what was made from the old stream")
    vm.quit()

    # 6. idle: one transfer's bytes made ahead, then nothing while nobody
    # reads (the worker's trace: one line per request it made)
    trace = os.path.join(tmp, "worker-idle.trace")
    vm = Vm(qemu, tmp, "idle", "msi=off",
            ["-trace", "edu_rng_worker_made", "-D", trace])
    vm.setup()
    vm.wr("SEED", 42)
    ok = True
    for i in range(3):
        vm.dma(RAM, big)
        ok = ok and vm.idle() and vm.mem(RAM, big) == want[i * big:(i + 1) * big]
        vm.wr("IRQ_ACK", DMA_DONE)

    def made():
        with open(trace) as f:
            return sum("edu_rng_worker_made" in line for line in f)
    # the request made after the third transfer: 4 in all
    for _ in range(20000):
        if made() >= 4:
            break
        vm.rd("STATUS")
    n = made()
    vm.step(1000000000)
    for _ in range(100):
        vm.rd("STATUS")
    check(ok and n == 4 and made() == 4,
          "worker: 3 transfers, 4 requests made (one ahead), none while "
          "idle (%d, then %d)" % (n, made()))
    vm.qmp("system_reset")
    # the main loop resets the machine when it next goes round
    for _ in range(1000):
        if vm.threads("edu-rng-gen") == 0:
            break
        vm.rd("STATUS")
    check(vm.threads("edu-rng-gen") == 0, "worker: joined at reset")
    vm.quit()

    print("1..%d" % tests)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
