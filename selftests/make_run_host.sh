#!/bin/bash
# The run-guest suite: the guest of `make run` as a new user meets it.
#
# Usage: selftests/make_run_host.sh PREFIX
#
# 1. `make run` on a terminal (a pty; 80x24), the root shell typed into:
#    rngd runs from boot reading /dev/hwrng, edu-rng info, lab-rng (seed
#    42 by ioctl: the seed's stream), rngtest, the man pages (man edu-rng
#    in less, quit with q; man lab-rng, rngd, rngtest; edu-rng --help),
#    then poweroff: QEMU must end, make run with status 0.
# 2. `make run` without a terminal: the demo, through the CLI, finding
#    every piece it looks for.
# 3. run-vm's boot watchdog, with a limit (1 s) no boot meets.
# Each command ends with a marker line carrying its status; every wait is
# on the guest's output or QEMU's end, with a deadline.  The terminal's
# transcript goes to PREFIX.shell.log, the demo's serial log to
# PREFIX.demo.serial.log.  Output is TAP; exit status 1 when a check failed.
set -eu
# shellcheck source=../scripts/common.sh
. "$(dirname "$0")/../scripts/common.sh"

[ $# -eq 1 ] || die "usage: $0 PREFIX"
PREFIX=$1
mkdir -p "$(dirname "$PREFIX")"

exec python3 - "$TOP" "$PREFIX" "$BUILD/vm/serial.log" <<'PY'
import os, pty, re, select, signal, shutil, struct, subprocess, sys, time
import fcntl, termios

top, prefix, serial_log = sys.argv[1:4]
BOOT = 300      # s from make run to the shell prompt (make's checks included)
STEP = 60       # s for one command
OFF = 60        # s from poweroff to QEMU's end

n = failed = 0

def tap(ok, what, detail=""):
    global n, failed
    n += 1
    if not ok:
        failed += 1
    print(f"{'ok' if ok else 'not ok'} {n} {what}", flush=True)
    if not ok and detail:
        for line in detail.strip("\n").splitlines()[-15:]:
            print(f"#   {line}", flush=True)

# make run on a pty of 80x24, in its own session and process group
t0 = time.monotonic()
pid, fd = pty.fork()
if pid == 0:
    os.chdir(top)
    os.environ["TERM"] = "xterm"
    os.execvp("make", ["make", "-s", "run"])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
out = b""
log = open(prefix + ".shell.log", "wb")
status = None

def text():
    return out.decode("utf-8", "replace").replace("\r", "")

def reap():
    global status
    if status is None:
        p, st = os.waitpid(pid, os.WNOHANG)
        if p:
            status = os.waitstatus_to_exitcode(st)
    return status is not None

# Take what the terminal has within @timeout s; False once make run ended
# (and the terminal is drained).
def pump(timeout):
    global out
    r, _, _ = select.select([fd], [], [], max(0, timeout))
    if r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            data = b""
        if data:
            out += data
            log.write(data)
            log.flush()
            return True
    return not reap()

# Read until regex pat matches the output from position pos on; the match,
# or None at the deadline or when make run ended.
def wait(pat, pos, timeout):
    end = time.monotonic() + timeout
    rx = re.compile(pat)
    while True:
        m = rx.search(text(), pos)
        if m:
            return m
        left = end - time.monotonic()
        if left <= 0 or not pump(min(left, 1.0)):
            return None

def send(s):
    os.write(fd, s.encode())

seq = 0
# Type a command line; its output (stdout and stderr) and status.  The
# markers are typed split ("@@E""ND"), so that the terminal's echo of the
# line does not match them.
def run(cmd, timeout=STEP, keys=None):
    global seq
    seq += 1
    pos = len(text())
    send(f'echo "@@BE""GIN{seq}"; {cmd}; echo "@@E""ND{seq} $?"\n')
    b = wait(rf"@@BEGIN{seq}\n", pos, timeout)
    if not b:
        return None, text()[pos:]
    if keys:
        # an interactive program: wait for what it shows, then type keys
        for want, k in keys:
            if not wait(want, b.end(), timeout):
                return None, text()[b.end():]
            send(k)
    e = wait(rf"@@END{seq} (\d+)\n", b.end(), timeout)
    if not e:
        return None, text()[b.end():]
    return int(e.group(1)), text()[b.end():e.start()]

def check(what, cmd, pattern=None, code=0, **kw):
    rc, o = run(cmd, **kw)
    ok = rc == code and (pattern is None or re.search(pattern, o, re.M))
    tap(bool(ok), what, f"$ {cmd}\nstatus {rc}\n{o}")
    return ok

try:
    m = wait(r"root shell[^\n]*\n[\s\S]*?# ", 0, BOOT)
    took = time.monotonic() - t0
    tap(m is not None, f"make run on a terminal gives the root shell ({took:.1f} s)",
        text()[-1500:])
    if m is None:
        raise SystemExit
    print(f"# make run to the shell prompt: {took:.1f} s", flush=True)

    # rngd from boot: no command of ours started it
    check("rngd runs from boot: /dev/hwrng and /dev/random open, parent init",
          "p=$(cat /run/rngd.pid) && kill -0 $p && grep PPid /proc/$p/status"
          " && ls -l /proc/$p/fd | grep -c -e ' /dev/hwrng$' -e ' /dev/random$'",
          r"^PPid:\s+1\n2$")
    # rngd checks 2500-byte blocks; poll /proc/PID/io, at most 30 s
    check("rngd reads /dev/hwrng (a block of 2500 bytes or more)",
          "p=$(cat /run/rngd.pid); i=0; while [ $(sed -n 's/^rchar: //p' /proc/$p/io)"
          " -lt 2500 ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done;"
          " sed -n 's/^rchar: //p' /proc/$p/io",
          r"^(2[5-9]\d\d|[3-9]\d{3}|\d{5,})$")
    check("edu-rng info: the device, bound to edu-rng, /dev/edu-rng0, the current hwrng",
          "edu-rng info",
          r"^edu-rng 0000:[0-9a-f:.]+\n  driver: +edu-rng\n  node: +/dev/edu-rng0\n"
          r"  mode: +host\n  hwrng: +edu-rng-\S+ \(current\)")
    check("edu-rng --help", "edu-rng --help", r"^Usage: edu-rng \[-d DEV\] COMMAND")
    rc, o = run("rngtest -c 20 </dev/hwrng")
    mm = re.search(r"successes: (\d+)\n.*failures: (\d+)", o)
    tap(rc is not None and mm is not None and int(mm.group(1)) + int(mm.group(2)) == 20,
        "rngtest: FIPS 140-2 on 20 blocks of /dev/hwrng", f"status {rc}\n{o}")
    # man on a terminal: the page in less, which q quits
    check("man edu-rng: the page in less, q quits", "man edu-rng",
          r"EDU-RNG\(1\)[\s\S]*NAME[\s\S]*edu-rng\s+-\s+inspect, seed, read",
          keys=[(r"cat1/edu-rng\.1", "q")])
    for page, head in (("lab-rng", r"LAB-RNG\(1\)"), ("rngd", r"RNGD\(8\)"),
                       ("rngtest", r"RNGTEST\(1\)")):
        check(f"man {page} | cat: the page as text", f"man {page} | cat",
              head + r"[\s\S]*\nNAME\n")
    check("man nosuchpage: no manual entry, status 16", "man nosuchpage",
          r"No manual entry for nosuchpage", code=16)
    # the lab's program: seed 42 by ioctl, then its stream as words
    check("lab-rng -s 42 -n 2: seed 42's stream (652572191 1793264209)",
          "lab-rng -s 42 -n 2", r"^652572191\n1793264209$")
    check("edu-rng info after lab-rng's seed: seeded, withdrawn; back with echo host",
          "edu-rng info | grep -e mode: -e hwrng:; echo host >"
          " /sys/bus/pci/devices/$(edu-rng info | sed -n 's/^edu-rng //p')/mode"
          " && edu-rng info | grep hwrng:",
          r"mode: +seeded\n  hwrng: .*withdrawn while seeded\)\n  hwrng: .*\(current\)$")
    check("rngd still runs", "kill -0 $(cat /run/rngd.pid) && echo alive", r"^alive$")

    pos = len(text())
    t1 = time.monotonic()
    send("poweroff\n")
    end = t1 + OFF
    while time.monotonic() < end and pump(min(1.0, end - time.monotonic())):
        pass
    took = time.monotonic() - t1
    tap(status == 0 and "reboot: Power down" in text()[pos:],
        f"poweroff powers the guest off: make run ends, status 0 ({took:.1f} s)",
        f"status {status} after {took:.1f} s\n{text()[pos:][-800:]}")
finally:
    if not reap():
        os.killpg(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    log.close()

# the demo: make run without a terminal
t1 = time.monotonic()
p = subprocess.run(["make", "-s", "-C", top, "run"], stdin=subprocess.DEVNULL,
                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=BOOT + 300)
took = time.monotonic() - t1
shutil.copy(serial_log, prefix + ".demo.serial.log")
demo = open(serial_log, "rb").read().decode("utf-8", "replace").replace("\r", "")
tap(p.returncode == 0 and "demo: done, all steps found what they looked for" in demo,
    f"make run without a terminal: the demo finds every piece ({took:.1f} s)",
    p.stdout.decode("utf-8", "replace")[-1500:])
print(f"# make run (demo) to its end: {took:.1f} s", flush=True)
for what, pat in (
        ("edu-rng info", r"^# edu-rng info\nedu-rng 0000:\S+\n  driver: +edu-rng\n"),
        ("edu-rng seed 42, edu-rng read", r"^# edu-rng seed 42\n# edu-rng read -n 16\n1f76e526510ae36a"),
        ("lab-rng", r"^# lab-rng .*-s 42 -n 2\n652572191\n"),
        ("rngd, rngtest", r"^rngd running[\s\S]*FIPS 140-2 successes: \d+")):
    tap(re.search(pat, demo, re.M) is not None, f"the demo shows {what}")

# run-vm's boot watchdog: with a limit no boot meets, the guest is killed,
# booted once more, killed again, and the run fails with that reason
wd = prefix + ".watchdog.serial.log"
env = dict(os.environ, EDU_RNG_BOOT_LIMIT="1")
p = subprocess.run([os.path.join(top, "qemu", "run-vm"), "--log", wd, "--exec", "/bin/true"],
                   env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT, timeout=300)
o = p.stdout.decode("utf-8", "replace")
tap(p.returncode == 1 and o.count("guest hung in early boot: no 'init: started' in 1 s") == 2
    and "booting it once more" in o and os.path.exists(wd + ".hung"),
    "run-vm: a guest that does not reach its init in EDU_RNG_BOOT_LIMIT s is killed, "
    "booted once more, then failed", o[-1500:])
print(f"1..{n}")
sys.exit(1 if failed else 0)
PY
