"""ecadmd's Prometheus metrics ([metrics] listen): the counts follow the
requests made, exactly; histograms agree with the counters; the page
parses; the listener is on the loopback only and serves GET /metrics and
nothing else; a scrape is answered while every worker is busy and while
PostgreSQL is down. Each case runs a daemon of its own (same database,
except the last: a stack of its own whose cluster is stopped), so that no
other test's traffic enters the counts."""

import os
import re
import socket
import subprocess
import time
import unittest
import urllib.error
import urllib.request

import harness

SAMPLE_RE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)'
    r'(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")'
    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\\n]*")*)\})?'
    r' (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"')


def parse(text):
    """{(name, ((label, value), ...)): float} of a page in the text
    exposition format; AssertionError on a line that is not a comment
    or `name{labels} value`, or a sample of no announced family."""
    samples, families = {}, {}
    if not text.endswith("\n"):
        raise AssertionError("the page does not end with a newline")
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            families[name] = kind
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        if m is None:
            raise AssertionError("not a sample line: %r" % line)
        name, labels, value = m.groups()
        family = name
        for suffix in ("_bucket", "_sum", "_count"):
            if name.endswith(suffix) and \
                    families.get(name[:-len(suffix)]) == "histogram":
                family = name[:-len(suffix)]
        if family not in families:
            raise AssertionError("%s: no # TYPE before it" % name)
        key = (name, tuple(sorted(LABEL_RE.findall(labels or ""))))
        if key in samples:
            raise AssertionError("%r twice" % (key,))
        samples[key] = float(value)
    return samples


def get(samples, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    if key not in samples:
        raise AssertionError("no sample %s%r" % (name, labels))
    return samples[key]


def http(port, path="/metrics", method="GET", timeout=10):
    """(status, headers, body) of one request to the metrics port."""
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path),
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode()


def listening_addresses(port):
    """The local addresses of the sockets listening on port, from
    /proc/net/tcp and tcp6, as hex as the kernel writes them."""
    found = []
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            addr, lport = fields[1].split(":")
            if fields[3] == "0A" and int(lport, 16) == port:
                found.append(addr)
    return found


def outside_address():
    """An address of this machine that is not the loopback, or None (a
    UDP socket routed towards a documentation address is never sent)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))
            addr = s.getsockname()[0]
    except OSError:
        return None
    return None if addr.startswith("127.") else addr


class MetricsDaemon:
    """A daemon of its own with its metrics on a free loopback port."""

    def __init__(self, stack, name, extra=""):
        self.metrics_port = harness.free_port()
        self.daemon = harness.Daemon(
            stack, name, harness.free_port(),
            "[metrics]\nlisten = 127.0.0.1:%d\n%s" % (self.metrics_port,
                                                    extra))
        self.daemon.start()
        stack.daemons.append(self.daemon)
        self.stack = stack

    def scrape(self, timeout=10):
        status, headers, body = http(self.metrics_port, timeout=timeout)
        assert status == 200, (status, body)
        assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), \
            headers["Content-Type"]
        return parse(body)

    def session(self, user="dir.a"):
        c = self.stack.connect(port=self.daemon.port)
        assert c.hello()["ok"]
        r = c.login(user, self.stack.users[user])
        assert r["ok"], r
        return c

    def stop(self):
        self.daemon.stop()
        report = harness.sanitizer_report(self.daemon.read_log())
        if report:
            raise AssertionError("sanitizer report from ecadmd:\n" + report)


def check_histograms(test, samples):
    """Per operation: cumulative buckets that never decrease, +Inf equal to
    _count, and _count equal to the requests counted for it."""
    ops = {dict(l)["op"] for (n, l) in samples
           if n == "ecadmd_requests_total"}
    test.assertIn("search", ops)
    for op in ops:
        buckets = sorted(
            (float(dict(l)["le"]), v) for (n, l), v in samples.items()
            if n == "ecadmd_request_duration_seconds_bucket" and
            dict(l)["op"] == op)
        test.assertEqual(len(buckets), 14, op)
        counts = [v for _, v in buckets]
        test.assertEqual(counts, sorted(counts), op)
        count = get(samples, "ecadmd_request_duration_seconds_count", op=op)
        test.assertEqual(buckets[-1], (float("inf"), count), op)
        requests = sum(v for (n, l), v in samples.items()
                       if n == "ecadmd_requests_total" and
                       dict(l)["op"] == op)
        test.assertEqual(count, requests, op)


class TestMetrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        cls.d = MetricsDaemon(cls.s, "metrics")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_counts_follow_the_requests(self):
        before = self.d.scrape()
        c = self.d.session()
        for _ in range(3):
            r = c.call("search", school=harness.SCHOOL_A)
            self.assertTrue(r["ok"], r)
        r = c.call("search", school=harness.SCHOOL_A, state="nope")
        self.assertEqual(r["error"]["code"], "E_INVALID", r)
        r = c.call("search", school=harness.SCHOOL_B)
        self.assertEqual(r["error"]["code"], "E_FORBIDDEN", r)
        during = self.d.scrape()
        c.close()

        def delta(name, **labels):
            return get(during, name, **labels) - get(before, name, **labels)

        want = {("hello", "ok"): 1, ("login", "ok"): 1, ("search", "ok"): 3,
                ("search", "E_INVALID"): 1, ("search", "E_FORBIDDEN"): 1}
        for (n, l), v in during.items():
            if n != "ecadmd_requests_total":
                continue
            key = (dict(l)["op"], dict(l)["code"])
            self.assertEqual(v - before[(n, l)], want.get(key, 0), key)
        self.assertEqual(delta("ecadmd_request_duration_seconds_count",
                               op="search"), 5)
        self.assertGreater(delta("ecadmd_request_duration_seconds_sum",
                                 op="search"), 0)
        self.assertEqual(delta("ecadmd_connections_accepted_total"), 1)
        self.assertEqual(get(during, "ecadmd_connections_open"), 1)
        self.assertEqual(get(during, "ecadmd_workers_busy"), 0)
        self.assertEqual(get(during, "ecadmd_queue_depth"), 0)
        # Every request but hello went through the queue.
        self.assertEqual(delta("ecadmd_queue_wait_seconds_count"), 6)
        check_histograms(self, during)
        # The loop sees the close at its next event.
        deadline = time.time() + 5
        while get(self.d.scrape(), "ecadmd_connections_open") != 0:
            self.assertLess(time.time(), deadline, "connection still open")
            time.sleep(0.05)

    def test_page_and_basics(self):
        status, headers, body = http(self.d.metrics_port)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"],
                         "text/plain; version=0.0.4; charset=utf-8")
        samples = parse(body)
        self.assertIn("# TYPE ecadmd_requests_total counter\n", body)
        self.assertIn("# TYPE ecadmd_request_duration_seconds histogram\n",
                      body)
        with open(os.path.join(harness.ROOT, "Makefile")) as f:
            version = re.search(r"^VERSION\s*=\s*(\S+)", f.read(),
                                re.M).group(1)
        self.assertEqual(get(samples, "ecadmd_build_info", version=version),
                         1)
        self.assertEqual(get(samples, "ecadmd_workers"), 4)
        self.assertEqual(get(samples, "ecadmd_queue_capacity"), 256)
        self.assertGreater(get(samples, "process_open_fds"), 4)
        self.assertGreater(get(samples, "process_resident_memory_bytes"), 0)
        self.assertLessEqual(get(samples, "process_start_time_seconds"),
                             time.time())
        for reason in ("max_connections", "per_address", "draining"):
            get(samples, "ecadmd_connections_refused_total", reason=reason)
        for result in ("ok", "failed"):
            get(samples, "ecadmd_db_reconnects_total", result=result)
        # Every operation and every error of the .def files has a series.
        ops = {dict(l)["op"] for (n, l) in samples
               if n == "ecadmd_requests_total"}
        codes = {dict(l)["code"] for (n, l) in samples
                 if n == "ecadmd_requests_total"}
        with open(os.path.join(harness.ROOT, "common/proto-ops.def")) as f:
            self.assertEqual(ops, set(re.findall(
                r'^OP\(\w+,\s*"([^"]+)"', f.read(), re.M)))
        with open(os.path.join(harness.ROOT,
                               "common/proto-errors.def")) as f:
            self.assertEqual(codes, {"ok"} | set(re.findall(
                r"^PROTO_ERROR\((\w+),", f.read(), re.M)))

    def test_alert_rules_name_real_series(self):
        body = http(self.d.metrics_port)[2]
        names = {n for (n, _) in parse(body)} | set(
            re.findall(r"^# TYPE (\S+)", body, re.M))
        with open(os.path.join(harness.ROOT, "etc/ecadmd-alerts.yml")) as f:
            used = set(re.findall(r"\becadmd_[a-z_]+", f.read()))
        self.assertTrue(used)
        self.assertEqual(used - names, set())

    def test_only_get_metrics(self):
        for path in ("/", "/metrics/", "/metricsx", "/favicon.ico"):
            status, _, body = http(self.d.metrics_port, path)
            self.assertEqual(status, 404, path)
            self.assertIn("/metrics", body)
        for method in ("POST", "PUT", "DELETE"):
            status, headers, _ = http(self.d.metrics_port, method=method)
            self.assertEqual(status, 405, method)
            self.assertEqual(headers["Allow"], "GET, HEAD")
        status, _, body = http(self.d.metrics_port, method="HEAD")
        self.assertEqual((status, body), (200, ""))
        # A query string is not part of the path.
        self.assertEqual(http(self.d.metrics_port, "/metrics?x=1")[0], 200)

    def test_loopback_only(self):
        addrs = listening_addresses(self.d.metrics_port)
        # 127.0.0.1 as /proc/net/tcp writes it (little-endian hex).
        self.assertEqual(addrs, ["0100007F"])
        other = outside_address()
        if other is not None:
            with self.assertRaises(OSError):
                socket.create_connection((other, self.d.metrics_port), 2)

    def test_outbox(self):
        count = "select count(*) from outbox where sent_at is null" \
                " and failed_at is null"
        # Due in an hour: no mailer takes it meanwhile.
        _, oid, _ = self.s.psql(
            "insert into outbox (kind, recipient, created_at,"
            " next_attempt_at) values ('activation', 'metrics@example.org',"
            " now() - interval '10 minutes', now() + interval '1 hour')"
            " returning id")
        try:
            samples = self.d.scrape()
            self.assertEqual(get(samples, "ecadmd_outbox_query_success"), 1)
            _, n, _ = self.s.psql(count)
            self.assertEqual(get(samples, "ecadmd_outbox_depth"), int(n))
            self.assertGreaterEqual(
                get(samples, "ecadmd_outbox_oldest_age_seconds"), 600)
        finally:
            self.s.psql("delete from outbox where id = %s" % oid)
        samples = self.d.scrape()
        _, n, _ = self.s.psql(count)
        self.assertEqual(get(samples, "ecadmd_outbox_depth"), int(n))

    def test_non_loopback_is_refused(self):
        for n, listen in enumerate(("0.0.0.0:%d", ":%d", "[::]:%d")):
            port = harness.free_port()
            d = harness.Daemon(self.s, "metrics-public-%d" % n,
                               harness.free_port(),
                               "[metrics]\nlisten = %s\n" % (listen % port))
            with self.assertRaises(RuntimeError) as cm:
                d.start()
                d.stop()
            self.assertIn("[metrics] listen: " + listen % port,
                          str(cm.exception))
            self.assertIn("loopback", str(cm.exception))
            self.assertIsNotNone(d.proc.poll())
            self.assertEqual(listening_addresses(port), [])
            # Refused before the workers opened their connections.
            self.assertNotIn("workers started", d.read_log())

    def test_off_by_default(self):
        # The stack's own daemon has no [metrics] section.
        self.assertNotIn("metrics on", self.s.main.read_log())


class TestBusyWorkers(unittest.TestCase):
    """One worker held by a lock, a request queued behind it: the page is
    answered at once and shows them."""

    def test_scrape_while_every_worker_is_busy(self):
        s = harness.stack()
        d = MetricsDaemon(s, "metrics-busy", "[server]\nworkers = 1\n"
                          "[database]\nlock_timeout = 60\n")
        holder = None
        try:
            a, b = d.session(), d.session()
            before = d.scrape()
            holder = subprocess.Popen(
                [os.path.join(harness.pg_bindir(), "psql"), "-X", "-q",
                 "-A", "-t", s.database_url()], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=s.env())
            # Every request refreshes its session (session_check = 0): a
            # lock on the sessions holds the worker.
            holder.stdin.write("begin;\nlock table staff_sessions in "
                               "access exclusive mode;\nselect 'locked';\n")
            holder.stdin.flush()
            self.assertEqual(holder.stdout.readline().strip(), "locked")
            a.send({"id": 70, "op": "whoami", "args": {}})
            time.sleep(0.3)
            b.send({"id": 71, "op": "whoami", "args": {}})
            deadline = time.time() + 5
            while True:
                t0 = time.time()
                samples = d.scrape(timeout=3)
                self.assertLess(time.time() - t0, 2.5)
                if get(samples, "ecadmd_queue_depth") == 1:
                    break
                self.assertLess(time.time(), deadline, "b never queued")
                time.sleep(0.05)
            self.assertEqual(get(samples, "ecadmd_workers_busy"), 1)
            self.assertEqual(get(samples, "ecadmd_workers"), 1)
            self.assertEqual(get(samples, "ecadmd_connections_open"), 2)
            # The outbox is read on a connection of its own, not held.
            self.assertEqual(get(samples, "ecadmd_outbox_query_success"), 1)
            time.sleep(0.3)		# b waits on
            holder.stdin.write("commit;\n")
            holder.stdin.flush()
            self.assertTrue(a.recv()["ok"])
            self.assertTrue(b.recv()["ok"])
            after = d.scrape()
            self.assertEqual(get(after, "ecadmd_workers_busy"), 0)
            self.assertEqual(get(after, "ecadmd_queue_depth"), 0)
            self.assertEqual(
                get(after, "ecadmd_requests_total", op="whoami", code="ok") -
                get(before, "ecadmd_requests_total", op="whoami", code="ok"),
                2)
            # b waited behind a for the worker, a did not.
            self.assertEqual(
                get(after, "ecadmd_queue_wait_seconds_count") -
                get(before, "ecadmd_queue_wait_seconds_count"), 2)
            self.assertEqual(
                get(after, "ecadmd_queue_wait_seconds_bucket", le="0.1") -
                get(before, "ecadmd_queue_wait_seconds_bucket", le="0.1"), 1)
            a.close()
            b.close()
        finally:
            if holder is not None:
                holder.stdin.close()
                holder.wait(10)
            d.stop()


class TestDatabaseDown(unittest.TestCase):
    """A stack of its own, its PostgreSQL stopped under ecadmd: scrapes
    are still answered, in time, and count what the clients were told."""

    def pgcluster(self, s, action):
        subprocess.run(["sh", os.path.join(harness.ROOT, "tools/pgcluster.sh"),
                        s.pg_dir, str(s.pg_port), action],
                       check=True, capture_output=True, env=s.env())

    def test_scrape_while_postgres_is_down(self):
        s = harness.Stack()
        port = harness.free_port()
        # One worker: the requests below all meet its connection.
        s.extra_ini = "[server]\nworkers = 1\n" \
            "[metrics]\nlisten = 127.0.0.1:%d\n" % port
        log = ""
        try:
            s.setup(demo=False)
            c = s.connect()
            self.assertTrue(c.hello()["ok"])
            r = c.login("admin", s.users["admin"])
            self.assertTrue(r["ok"], r)
            self.assertEqual(get(parse(http(port)[2]),
                                 "ecadmd_outbox_query_success"), 1)
            self.pgcluster(s, "stop")
            before = parse(http(port)[2])
            # The first request meets the connection the server closed,
            # the next ones find it lost and fail to connect again.
            seen = {}
            for _ in range(3):
                code = c.call("whoami")["error"]["code"]
                seen[code] = seen.get(code, 0) + 1
            self.assertIn("E_BUSY", seen)
            t0 = time.time()
            status, _, body = http(port)
            self.assertLess(time.time() - t0, 3)
            self.assertEqual(status, 200)
            after = parse(body)
            self.assertEqual(get(after, "ecadmd_outbox_query_success"), 0)
            self.assertNotIn(("ecadmd_outbox_depth", ()), after)
            for code in ("E_BUSY", "E_INTERNAL", "ok"):
                self.assertEqual(
                    get(after, "ecadmd_requests_total", op="whoami",
                        code=code) -
                    get(before, "ecadmd_requests_total", op="whoami",
                        code=code), seen.get(code, 0), code)
            self.assertGreaterEqual(
                get(after, "ecadmd_db_reconnects_total", result="failed") -
                get(before, "ecadmd_db_reconnects_total", result="failed"), 1)
            self.assertIn("metrics: outbox:", s.main.read_log())
            # Back up: the next scrape connects again, the worker too.
            self.pgcluster(s, "start")
            self.assertEqual(get(parse(http(port)[2]),
                                 "ecadmd_outbox_query_success"), 1)
            r = c.call("whoami")
            self.assertTrue(r["ok"], r)
            self.assertGreaterEqual(get(parse(http(port)[2]),
                                        "ecadmd_db_reconnects_total",
                                        result="ok"), 1)
            c.close()
        finally:
            if getattr(s, "main", None) is not None:
                s.main.stop()
                log = s.main.read_log()
            s.teardown()
        report = harness.sanitizer_report(log)
        if report:
            raise AssertionError("sanitizer report from ecadmd:\n" + report)


if __name__ == "__main__":
    unittest.main()
