#!/usr/bin/python3
"""make stress: staff traffic beside abusive clients, for STRESS_TIME
seconds (300 by default), then a verdict.

The load is made by bench/stress.c, one process for each kind of traffic
(see its header): the staff (every generated school's director and the
helpdesk: log in, search a class, show an account, notify it on paper,
with no think time), and the abusers (resets with requests in flight,
unread hello floods, slow and silent handshakes, hundreds of idle
connections, malformed frames). All of it goes to 127.0.0.1 and stops by
itself. The staff connect from 127.0.0.1, each abuser from an address of
its own in 127.0.0.0/8 (another host, as far as limits by address go).

The run has two phases: a warm-up (a third of the time, 5 to 30 s) with
every kind of traffic, so the allocator of ecadmd has seen every path;
then the measured load. ecadmd's resident memory (VmRSS) is read once the
warm-up traffic has stopped and its connections are closed (start), at the
end of the load (end), and again once the load has stopped and the
connections are closed (after).

The run FAILS (exit 1) if ecadmd died, if its memory after the load is
more than 20 % above its memory at the start, or if a staff request failed
for another reason than E_BUSY (the server being full is a legitimate
answer; a lost connection or an internal error is not).

By default the stack is a throwaway one (tests/integration/harness.py,
PostgreSQL durable, four generated schools). STRESS_DEMO=1 runs against
the stack of `make serve` instead, with the settings of var/env; that
notifies demo accounts, as a director would.

STRESS_ABUSERS=reset,flood,... picks the abusers (default: idle, reset,
flood, slow, garbage; "none" for staff traffic alone), to tell which one
hurts. Worker logs and a copy of ecadmd's log are kept in build/stress/.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
import harness  # noqa: E402

OUT = os.path.join(harness.BUILD, "stress")
STRESS = os.path.join(harness.BUILD, "bench", "stress")

# The abusers, and how many of each (threads, sockets, connections).
RESET_THREADS = 2
FLOOD_THREADS = 1
SLOW_SOCKETS = 40
IDLE_CONNECTIONS = 300
GARBAGE_THREADS = 2
SLOW_MAX_SECONDS = 40   # as in stress.c
ABUSERS = ("idle", "reset", "flood", "slow", "garbage")

# A worker may overrun its deadline by one request timeout (30 s) and the
# time to close its connections.
GRACE = 45
LEAK_LIMIT = 0.20
STAFF_OPS = ("login", "search", "show", "notify", "logout")


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line_ in f:
            if line_.startswith("VmRSS:"):
                return int(line_.split()[1])
    return 0


def fd_count(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return -1


class Target:
    """The ecadmd under test: address, CA, process, log, accounts."""

    def __init__(self):
        self.stack = None
        self.proc = None
        self.pid = None
        self.log = None
        self.server = None
        self.ca = None
        self.staff = []         # (login, password, uai or "", notify)
        self.reset_user = None  # (login, password)
        self.classes = []       # (uai, class)

    def alive(self):
        if self.proc is not None:
            return self.proc.poll() is None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return os.path.exists("/proc/%d" % self.pid)

    def death(self):
        """How ecadmd ended, in words."""
        if self.proc is not None and self.proc.returncode is not None:
            rc = self.proc.returncode
            if rc < 0:
                return "killed by signal %d (%s)" % (
                    -rc, signal.Signals(-rc).name)
            return "exited with status %d" % rc
        return "process %d is gone" % self.pid

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


def classes_of(csv_path, schools=None):
    """The (UAI, class) pairs of an extraction."""
    pairs = set()
    with open(csv_path, encoding="utf-8") as f:
        header = f.readline().rstrip("\r\n").split(";")
        iu, ic = header.index("uai"), header.index("classe")
        for line_ in f:
            cells = line_.rstrip("\r\n").split(";")
            if len(cells) > ic and cells[ic] and '"' not in line_ and (
                    schools is None or cells[iu] in schools):
                pairs.add((cells[iu], cells[ic]))
    return sorted(pairs)


def throwaway_target():
    t = Target()
    stack = harness.Stack(durable=True)
    t.stack = stack
    stack.setup(demo=False)
    csv_path = os.path.join(stack.dir, "stress.csv")
    subprocess.run([harness.PYTHON, os.path.join(harness.ROOT,
                    "tools/gen-onde.py"), "--schools", "4", "--pupils",
                    "240", "--seed", "5", "-o", csv_path], check=True)
    res = stack.ctl("import", csv_path, user="admin", timeout=600)
    if res.returncode != 0:
        raise RuntimeError("import: " + res.stderr)
    t.classes = classes_of(csv_path)
    for k, uai in enumerate(sorted({u for u, _ in t.classes})):
        login = "stress.dir%d" % (k + 1)
        stack.add_staff(login, "directeur", [uai], "Direction %d" % (k + 1))
        t.staff.append((login, stack.users[login], uai, 1))
    stack.add_staff("stress.help", "assistance", [], "Assistance Charge")
    t.staff += [("stress.help", stack.users["stress.help"], "", 0)] * 2
    stack.add_staff("stress.reset", "assistance", [], "Assistance Reset")
    t.reset_user = ("stress.reset", stack.users["stress.reset"])
    t.proc = stack.main.proc
    t.pid = t.proc.pid
    t.log = stack.main.log
    t.server = "127.0.0.1:%d" % stack.main.port
    t.ca = os.path.join(stack.tls, "ca.crt")
    return t


def demo_target():
    """The stack of make serve, from var/env."""
    var = os.path.join(harness.ROOT, "var")
    env = {}
    try:
        with open(os.path.join(var, "env")) as f:
            for line_ in f:
                m = re.match(r"export (\w+)=(.*)$", line_.strip())
                if m:
                    env[m.group(1)] = m.group(2).strip("'")
        with open(os.path.join(var, "run", "ecadmd.pid")) as f:
            pid = int(f.read())
    except OSError as e:
        sys.exit("stress: STRESS_DEMO=1 needs a running `make serve` "
                 "stack (%s)" % e)
    t = Target()
    t.pid = pid
    t.log = os.path.join(var, "log", "ecadmd.log")
    t.server = env["ECADM_SERVER"]
    t.ca = env["ECADM_CA"]
    if not t.server.startswith("127.0.0.1:"):
        sys.exit("stress: %s is not on 127.0.0.1" % t.server)
    if not t.alive():
        sys.exit("stress: ecadmd (pid %d) is not running: make serve" % pid)
    uai = env["ECADM_DEMO_UAI"]
    t.classes = classes_of(os.path.join(var, "demo", "onde.csv"))
    # The one demo director works from three places at once.
    t.staff = [(env["ECADM_DIRECTOR_USER"], env["ECADM_DIRECTOR_PASSWORD"],
                uai, 1)] * 3
    t.staff += [(env["ECADM_HELPDESK_USER"], env["ECADM_HELPDESK_PASSWORD"],
                 "", 0)] * 2
    t.reset_user = (env["ECADM_HELPDESK_USER"],
                    env["ECADM_HELPDESK_PASSWORD"])
    return t


class Worker:
    """One stress process; its output is read by a thread."""

    def __init__(self, target, mode, seconds, *args):
        self.mode = mode
        self.lines = []
        self.ready = threading.Event()
        self.stderr_path = os.path.join(OUT, "%s.stderr" % mode)
        err = open(self.stderr_path, "a")
        self.proc = subprocess.Popen(
            [STRESS, mode, target.server, target.ca, str(seconds)] +
            [str(a) for a in args], stdout=subprocess.PIPE, stderr=err,
            text=True)
        err.close()
        self.reader = threading.Thread(target=self.read, daemon=True)
        self.reader.start()

    def read(self):
        for line_ in self.proc.stdout:
            self.lines.append(line_.rstrip("\n"))
            if line_.startswith("ready"):
                self.ready.set()
        self.ready.set()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)


def parse(workers):
    """Counters and timings of a phase, over every worker."""
    counts, timings = {}, {}
    for w in workers:
        for line_ in w.lines:
            parts = line_.split()
            if parts[0] == "count":
                counts[parts[1]] = counts.get(parts[1], 0) + int(parts[2])
            elif parts[0] == "lat":
                timings[parts[1]] = (int(parts[2]), float(parts[3]),
                                     float(parts[4]))
    return counts, timings


def run_phase(target, files, seconds, abusers, sample_end=False):
    """Every kind of traffic for that many seconds. Returns (counts,
    timings, seconds it lasted, rss at the end or None, whether ecadmd
    survived)."""
    clients_file, classes_file = files
    args = {
        "idle": (IDLE_CONNECTIONS,),
        "reset": (target.reset_user[0], target.reset_user[1],
                  classes_file, RESET_THREADS),
        "flood": (FLOOD_THREADS,),
        "slow": (SLOW_SOCKETS,),
        "garbage": (GARBAGE_THREADS,),
    }
    start = time.monotonic()
    workers = [Worker(target, "staff", seconds, clients_file, classes_file)]
    workers += [Worker(target, a, seconds, *args[a]) for a in ABUSERS
                if a in abusers]
    end = time.monotonic() + seconds
    rss_end = None
    alive = True
    while time.monotonic() < end + GRACE:
        if not target.alive():
            alive = False
            break
        if all(w.proc.poll() is not None for w in workers):
            break
        if sample_end and rss_end is None and time.monotonic() >= end - 1:
            rss_end = rss_kb(target.pid)
        time.sleep(0.2)
    elapsed = time.monotonic() - start
    for w in workers:
        w.stop()
    for w in workers:
        try:
            w.proc.wait(10)
        except subprocess.TimeoutExpired:
            w.stop(signal.SIGKILL)
            w.proc.wait()
        w.reader.join(5)
    counts, timings = parse(workers)
    return counts, timings, min(elapsed, seconds), rss_end, alive


def settle(target, base_fds):
    """Wait for the connections of a phase to be closed, then a little
    more; the resident memory then."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and target.alive():
        if fd_count(target.pid) <= base_fds + 2:
            break
        time.sleep(0.5)
    time.sleep(3)
    if not target.alive():
        return None
    return rss_kb(target.pid)


def staff_failures(counts):
    """Staff requests that failed for another reason than E_BUSY."""
    bad = {}
    for name, n in counts.items():
        if not name.startswith("staff."):
            continue
        what = name.split(".", 2)
        if len(what) < 3:
            continue
        outcome = what[2]
        if outcome in ("lost", "failed", "no_pdf") or (
                outcome.startswith("E_") and outcome != "E_BUSY"):
            bad[name] = n
    return bad


def report(counts, timings, seconds, abusers):
    """The human report of the measured phase."""
    per_s = lambda n: n / seconds
    print("staff (%d clients), %.0f s:" % (counts.get("staff.clients", 0),
                                           seconds))
    for op in STAFF_OPS:
        ok = counts.get("staff.%s.ok" % op, 0)
        n, p50, p99 = timings.get(op, (0, 0, 0))
        print("  %-8s %7d ok  %7.1f/s  p50 %7.1f ms  p99 %7.1f ms" % (
            op, ok, per_s(ok), p50, p99))
    codes = {}
    for name, n in counts.items():
        parts = name.split(".")
        if parts[0] == "staff" and len(parts) == 3 and parts[2] not in (
                "ok", "pdf_bytes", "no_account"):
            codes["%s %s" % (parts[2], parts[1])] = n
    print("  errors: %s" % (", ".join("%s %d" % (k, v) for k, v in
                                       sorted(codes.items())) or "none"))
    if counts.get("staff.notify.pdf_bytes"):
        print("  PDFs received: %.1f MB" % (
            counts["staff.notify.pdf_bytes"] / 1e6))

    def c(name):
        return counts.get(name, 0)

    print("abusers (each from its own address in 127.0.0.0/8):")
    if "reset" in abusers:
        print("  reset    %6d connections reset (SO_LINGER 0) with %d requests"
              " pipelined, %.1f/s" % (c("reset.connections"),
                                      c("reset.requests"),
                                      per_s(c("reset.connections"))))
    if "flood" in abusers:
        print("  flood    %6d connections, %d hellos never read (%.0f/s); "
              "server stopped reading %d, closed %d, our cap %d" % (
                  c("flood.connections"), c("flood.hellos"),
                  per_s(c("flood.hellos")), c("flood.stalled"),
                  c("flood.closed_by_server"), c("flood.capped")))
    for kind in ("drip", "silent") if "slow" in abusers else ():
        n, p50, p99 = timings.get("slow.%s.lifetime" % kind, (0, 0, 0))
        print("  slow     %6d %s handshakes; closed by the server %d "
              "(after %.1f s median, %.1f s p99), outlived our %d s: %d" % (
                  c("slow.%s.opened" % kind), kind if kind == "silent"
                  else "byte-a-second", c("slow.%s.closed_by_server" % kind),
                  p50 / 1e3, p99 / 1e3, SLOW_MAX_SECONDS,
                  c("slow.%s.outlived" % kind)))
    if "idle" in abusers:
        n, p50, _ = timings.get("idle.lifetime", (0, 0, 0))
        print("  idle     %6d connections after hello, then silent (%d "
              "opened again); closed by the server %d (after %.1f s "
              "median), still open at the end %d, refused %d" % (
                  c("idle.opened"), c("idle.reopened"),
                  c("idle.closed_by_server"), p50 / 1e3,
                  c("idle.held_at_end"), c("idle.connect_failed") +
                  c("idle.handshake_failed") + c("idle.hello_failed")))
    garbage = {}
    for name, n in counts.items():
        parts = name.split(".", 2)
        if parts[0] == "garbage" and len(parts) == 3:
            garbage.setdefault(parts[1], []).append("%s %d" % (parts[2], n))
    total = sum(n for name, n in counts.items()
                if name.startswith("garbage."))
    if "garbage" in abusers:
        print("  garbage  %6d malformed conversations (%.1f/s), by kind "
              "and answer:" % (total, per_s(total)))
    for kind in sorted(garbage):
        print("           %-11s %s" % (kind, ", ".join(sorted(
            garbage[kind]))))
    # Connections the server refused (caps per address) or dropped early.
    other = {k: v for k, v in counts.items() if k.split(".")[-1] in (
        "connect_failed", "handshake_failed", "hello_failed") and
        not k.startswith("idle.") or ".resume." in k}
    if other:
        print("  refused or failed at connection: %s" % ", ".join(
            "%s %d" % kv for kv in sorted(other.items())))


def main():
    seconds = int(os.environ.get("STRESS_TIME") or 300)
    abusers = (os.environ.get("STRESS_ABUSERS") or ",".join(ABUSERS)
               ).split(",")
    for a in abusers:
        if a not in ABUSERS and a != "none":
            sys.exit("stress: STRESS_ABUSERS: %s is none of %s" % (
                a, ",".join(ABUSERS)))
    demo = os.environ.get("STRESS_DEMO", "") not in ("", "0")
    if seconds < 20:
        sys.exit("stress: STRESS_TIME must be at least 20 seconds")
    # Long enough for ecadmd's allocator to reach its working size (it
    # levels off within about 30 s here), or growth reads as a leak.
    warm = min(30, max(5, seconds // 3))
    load = seconds - warm
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.unlink(os.path.join(OUT, name))
    target = demo_target() if demo else throwaway_target()
    failures = []
    try:
        clients_file = os.path.join(OUT, "clients.txt")
        with open(os.open(clients_file, os.O_WRONLY | os.O_CREAT |
                          os.O_TRUNC, 0o600), "w") as f:
            for login, password, uai, notify in target.staff:
                f.write("%s;%s;%s;%d\n" % (login, password, uai, notify))
        classes_file = os.path.join(OUT, "classes.txt")
        with open(classes_file, "w") as f:
            for uai, name in target.classes:
                f.write("%s;%s\n" % (uai, name))
        files = (clients_file, classes_file)
        log_start = len(target.read_log())
        base_fds = fd_count(target.pid)
        rss_idle = rss_kb(target.pid)
        print("stress: ecadmd pid %d on %s (%s), %d s: warm-up %d s, load "
              "%d s; %d staff clients; abusers: %s" % (
                  target.pid, target.server, "make serve stack" if demo
                  else "throwaway stack", seconds, warm, load,
                  len(target.staff), ", ".join(a for a in ABUSERS
                                               if a in abusers) or "none"),
              flush=True)

        counts_w, timings_w, secs_w, _, alive = run_phase(
            target, files, warm, abusers)
        rss_start = settle(target, base_fds) if alive else None
        if rss_start is not None:
            counts, timings, secs, rss_end, alive = run_phase(
                target, files, load, abusers, sample_end=True)
            rss_after = settle(target, base_fds) if alive else None
        else:
            # Died in the warm-up: its numbers are all there is.
            counts, timings, secs, rss_end, rss_after = (
                counts_w, timings_w, secs_w, None, None)
            counts_w = {}
        alive = alive and target.alive()

        report(counts, timings, secs, abusers)
        print("ecadmd resident memory: %s kB idle before, %s kB at start"
              " (after warm-up), %s kB at the end of the load, %s kB after"
              % (rss_idle, rss_start, rss_end, rss_after))

        if rss_start and rss_end and rss_end > 3 * rss_start:
            print("stress: note: ecadmd held %d kB under the load, %.1f "
                  "times its memory at the start" % (
                      rss_end, rss_end / rss_start))

        log = target.read_log()[log_start:]
        if not alive:
            phase = "warm-up" if rss_start is None else "load"
            tail = [l for l in log.splitlines() if re.search(
                r"fatal|CRIT|Sanitizer|runtime error|SEGV|abort", l,
                re.I)][-5:] or log.splitlines()[-5:]
            failures.append("ecadmd died during the %s: %s; last lines of"
                            " its log:\n    %s" % (
                                phase, target.death(), "\n    ".join(tail)))
        report_ = harness.sanitizer_report(log)
        if report_:
            failures.append("sanitizer report in ecadmd's log:\n" + report_)
        if rss_start and rss_after and rss_after > rss_start * (
                1 + LEAK_LIMIT):
            failures.append("ecadmd's memory grew by %.0f %% (%d kB to %d "
                            "kB) over the load: a leak" % (
                                100.0 * (rss_after - rss_start) / rss_start,
                                rss_start, rss_after))
        bad = staff_failures(counts_w)
        for k, v in staff_failures(counts).items():
            bad[k] = bad.get(k, 0) + v
        if bad and not alive:
            print("stress: staff requests lost with ecadmd: %s" % ", ".join(
                "%s %d" % kv for kv in sorted(bad.items())))
        elif bad:
            failures.append("staff requests failed for another reason than"
                            " E_BUSY: %s (see %s)" % (", ".join(
                                "%s %d" % kv for kv in sorted(bad.items())),
                                os.path.join(OUT, "staff.stderr")))
        ops = sum(counts.get("staff.%s.ok" % op, 0) for op in STAFF_OPS)
        errors = sum(n for name, n in counts.items()
                     if name.startswith("staff.") and
                     name.split(".")[-1] not in ("ok", "pdf_bytes",
                                                 "no_account", "clients"))
        busy = sum(n for name, n in counts.items()
                   if name.startswith("staff.") and name.endswith(".E_BUSY"))
        if ops == 0 and alive:
            failures.append("no staff request succeeded")
        for f in failures:
            print("stress: FAIL: " + f)
        print("stress: ops=%d errors=%d busy=%d rss_start_kb=%s rss_end_kb=%s"
              " rss_after_kb=%s result=%s" % (
                  ops, errors, busy, rss_start, rss_end, rss_after,
                  "FAIL" if failures else "PASS"), flush=True)
    finally:
        # The passwords of the run need not outlive it.
        if os.path.exists(os.path.join(OUT, "clients.txt")):
            os.unlink(os.path.join(OUT, "clients.txt"))
        if target.log and os.path.exists(target.log):
            shutil.copy(target.log, os.path.join(OUT, "ecadmd.log"))
        if target.stack is not None:
            target.stack.teardown()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
