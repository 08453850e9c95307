# A small QMP client for the host sides of the suites (hotplug_host.sh,
# migrate_host.sh): connect to QEMU's socket, run commands, wait for events.
# Every wait is bounded; a QEMU that dies or stays silent raises
# RuntimeError instead of hanging the suite.
import json
import select
import socket
import time


class Qmp:
    # @path: QEMU's -qmp unix socket; @alive(): whether QEMU still runs
    # (the socket may appear late); @step: s to wait for any one answer
    def __init__(self, path, alive, step):
        self.step = step
        self.buf = b""
        self.events = []
        end = time.monotonic() + step
        while True:
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                self.s.close()
                if time.monotonic() > end or not alive():
                    raise RuntimeError("no QMP socket")
                time.sleep(0.05)    # bounded poll for the socket
        self.recv(step)             # the greeting
        self.cmd("qmp_capabilities")

    # the next message, or None after @timeout s
    def recv(self, timeout):
        end = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.s], [], [], left)[0]:
                return None
            data = self.s.recv(65536)
            if not data:
                raise RuntimeError("QEMU closed the QMP socket")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    # run @name; events that come before its answer are kept for wait_event
    def cmd(self, name, **args):
        self.s.sendall(json.dumps({"execute": name, "arguments": args}).encode())
        while True:
            msg = self.recv(self.step)
            if msg is None:
                raise RuntimeError(f"no answer to {name}")
            if "event" in msg:
                self.events.append(msg)
            elif "error" in msg:
                raise RuntimeError(f"{name}: {msg['error'].get('desc')}")
            elif "return" in msg:
                return msg["return"]

    # the event @name for @device, within @timeout s
    def wait_event(self, name, device, timeout):
        end = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e["event"] == name and e.get("data", {}).get("device") == device:
                    self.events.remove(e)
                    return
            msg = self.recv(max(0, end - time.monotonic()))
            if msg is None:
                raise RuntimeError(f"no {name} for {device} within {timeout} s")
            if "event" in msg:
                self.events.append(msg)

    # ask QEMU to quit; it may already be gone
    def quit(self):
        try:
            self.cmd("quit")
        except (RuntimeError, OSError, ValueError):
            pass
