"""ecadmd under abuse: clients that reset with requests in flight, that send
and never read, that never log in, that crowd from one address, and more
requests than the workers can take. Each case runs against a daemon of its
own (same database), so that a crash or a tight limit touches no other test.
"""

import os
import socket
import struct
import subprocess
import threading
import time
import unittest

import harness


def linger_reset(client):
    """Close so that the kernel sends RST: SO_LINGER with a zero timeout."""
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                           struct.pack("ii", 1, 0))
    client.sock.close()


class AbuseDaemon:
    """A daemon of its own with extra settings."""

    def __init__(self, stack, name, extra, wrapper=()):
        self.stack = stack
        self.daemon = harness.Daemon(stack, name, harness.free_port(), extra,
                                     wrapper)
        self.daemon.start()
        stack.daemons.append(self.daemon)

    @property
    def port(self):
        return self.daemon.port

    def alive(self):
        return self.daemon.proc.poll() is None

    def connect(self, timeout=10):
        return self.stack.connect(port=self.port, timeout=timeout)

    def session(self, user="dir.a"):
        c = self.connect()
        c.hello()
        r = c.login(user, self.stack.users[user])
        assert r["ok"], r
        return c, r["result"]["token"]

    def check_log(self):
        report = harness.sanitizer_report(self.daemon.read_log())
        if report:
            raise AssertionError("sanitizer report from ecadmd:\n" + report)

    def stop(self):
        self.daemon.stop()
        self.check_log()


class TestResetInFlight(unittest.TestCase):
    """32 clients pipeline 20 searches, read one reply and reset: a reply
    written to a gone peer closed the connection while a later event of the
    same epoll batch still named it (segfault in SSL_read)."""

    def test_resets_with_requests_in_flight(self):
        s = harness.stack()
        d = AbuseDaemon(s, "abuse-reset", "")
        try:
            first, token = d.session()
            cls = first.call("classes")["result"]["classes"][0]["name"]
            errors = []
            deadline = time.time() + 90

            def client(n):
                for _ in range(20):
                    if time.time() > deadline or not d.alive():
                        return
                    try:
                        c = d.connect()
                        c.hello()
                        r = c.call("resume", token=token)
                        if not r["ok"]:
                            errors.append(r)
                            return
                        for i in range(20):
                            c.send({"id": 100 + i, "op": "search",
                                    "args": {"classes": [cls]}})
                        c.recv()
                        linger_reset(c)
                    except (OSError, EOFError) as e:
                        if d.alive():
                            errors.append(repr(e))
                        return

            threads = [threading.Thread(target=client, args=(n,))
                       for n in range(32)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            self.assertTrue(d.alive(), "ecadmd died:\n" +
                            d.daemon.read_log()[-3000:])
            self.assertEqual(errors, [])
            # Still serving.
            r = first.call("search", classes=[cls])
            self.assertTrue(r["ok"], r)
            first.close()
        finally:
            d.stop()


class TestUnreadFlood(unittest.TestCase):
    """A client that sends frames and never reads: ecadmd stops reading it
    once its unsent output passes a bound, serves the others, and closes it
    when it has not taken its replies for write_timeout seconds."""

    def test_hello_flood_without_reading(self):
        s = harness.stack()
        d = AbuseDaemon(s, "abuse-flood", "[server]\nwrite_timeout = 3\n")
        try:
            c = d.connect()
            c.hello()
            frame = b'{"id":1,"op":"hello","args":{"version":1}}'
            chunk = (struct.pack(">I", len(frame)) + frame) * 20000
            sent = 0
            c.sock.settimeout(3)
            # Paced, so that the server reads, answers and writes in turns:
            # a partly written output buffer is what used to be compacted
            # under proto_frame_json.
            try:
                while sent < 100 * 1024 * 1024:
                    c.sock.sendall(chunk)
                    sent += len(chunk)
                    time.sleep(0.02)
            except (socket.timeout, OSError):
                pass
            time.sleep(1)
            self.assertTrue(d.alive(), "ecadmd died:\n" +
                            d.daemon.read_log()[-3000:])
            # The server stopped reading long before 100 MB.
            self.assertLess(sent, 100 * 1024 * 1024)
            other, _ = d.session()
            self.assertTrue(other.call("whoami")["ok"])
            # The flooder is closed once it has not read for 3 s.
            deadline = time.time() + 15
            while time.time() < deadline:
                if "client does not read its replies" in d.daemon.read_log():
                    break
                time.sleep(0.2)
            self.assertIn("client does not read its replies",
                          d.daemon.read_log())
            c.close()
            self.assertTrue(other.call("whoami")["ok"])
            other.close()
            self.assertTrue(d.alive())
        finally:
            d.stop()


class TestLimits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        cls.d = AbuseDaemon(cls.s, "abuse-limits",
                            "[server]\nlogin_timeout = 2\n"
                            "max_untrusted_per_address = 4\n")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_not_logged_in_is_closed_after_login_timeout(self):
        idle = self.d.connect()
        idle.hello()
        logged, _ = self.d.session()
        time.sleep(3.5)
        self.assertTrue(idle.closed(timeout=3))
        # A logged-in connection is not concerned.
        self.assertTrue(logged.call("whoami")["ok"])
        logged.close()

    def test_untrusted_connections_are_capped_per_address(self):
        held = []
        for _ in range(4):
            c = self.d.connect()
            c.hello()
            held.append(c)
        with self.assertRaises((OSError, EOFError)):
            extra = self.d.connect()
            extra.hello()
        # Logging in frees a place.
        r = held[0].login("dir.a", self.s.users["dir.a"])
        self.assertTrue(r["ok"], r)
        extra = self.d.connect()
        self.assertTrue(extra.hello()["ok"])
        extra.close()
        for c in held:
            c.close()
        # Let the server see the closes before the next test.
        time.sleep(0.5)

    def test_client_name_must_be_printable_and_short(self):
        for name in ("x" * 200, "tab\there", "\u00e9" * 12):
            c = self.d.connect()
            r = c.call("hello", version=1, client=name)
            self.assertEqual(r["error"]["code"], "E_INVALID", name)
            self.assertTrue(c.closed(), name)
        c = self.d.connect()
        self.assertTrue(c.call("hello", version=1,
                               client="ecadm \u00e9t\u00e9")["ok"])
        c.close()


def cpu_seconds(pid):
    """User and system time a process has used, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class TestOutOfDescriptors(unittest.TestCase):
    """With its descriptors exhausted, ecadmd pauses accept() instead of
    spinning on a listening socket that stays readable, serves the clients
    it has, and accepts again once descriptors are free."""

    def test_emfile_does_not_spin(self):
        s = harness.stack()
        d = AbuseDaemon(s, "abuse-emfile", "",
                        wrapper=["prlimit", "--nofile=40"])
        held = []
        try:
            logged, _ = d.session()
            for _ in range(60):
                try:
                    held.append(d.connect(timeout=1.5))
                except (OSError, EOFError):
                    break
            raw = [socket.create_connection(("127.0.0.1", d.port))
                   for _ in range(5)]	# wait in the backlog
            self.assertIn("Too many open files", d.daemon.read_log())
            before = cpu_seconds(d.daemon.proc.pid)
            time.sleep(3)
            used = cpu_seconds(d.daemon.proc.pid) - before
            # A spinning loop would use the whole 3 s of a core.
            self.assertLess(used, 1.0)
            self.assertTrue(logged.call("whoami")["ok"])
            for c in held + raw:
                c.close()
            held = []
            time.sleep(2)
            c = d.connect()
            self.assertTrue(c.hello()["ok"])
            c.close()
            logged.close()
        finally:
            for c in held:
                c.close()
            d.stop()


class TestBusy(unittest.TestCase):
    """One worker, a queue of two, a lock held elsewhere: the third waiting
    request is answered E_BUSY at once, a request that waited past
    queue_timeout is answered E_BUSY rather than run late, and a request
    whose client left is dropped without running."""

    def test_bounded_queue(self):
        s = harness.stack()
        if "abuse.q" not in s.users:
            s.add_staff("abuse.q", "directeur", [harness.SCHOOL_A],
                        "Queue Test")
        d = AbuseDaemon(s, "abuse-busy",
                        "[server]\nworkers = 1\nmax_queue = 2\n"
                        "queue_timeout = 2\n[database]\nlock_timeout = 60\n")
        holder = None
        try:
            a, _ = d.session()
            b, _ = d.session()
            gone, _ = d.session("abuse.q")
            c, _ = d.session()
            # Every request refreshes its session (session_check = 0):
            # an exclusive lock on the sessions blocks the worker.
            holder = subprocess.Popen(
                [os.path.join(harness.pg_bindir(), "psql"), "-X", "-q", "-A", "-t",
                 s.database_url()], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env=s.env())
            holder.stdin.write("begin;\nlock table staff_sessions in "
                               "access exclusive mode;\n"
                               "select 'locked';\n")
            holder.stdin.flush()
            self.assertEqual(holder.stdout.readline().strip(), "locked")

            a.send({"id": 50, "op": "whoami", "args": {}})
            time.sleep(0.3)		# a's job is on the worker
            gone.send({"id": 51, "op": "logout", "args": {}})
            b.send({"id": 52, "op": "whoami", "args": {}})
            time.sleep(0.3)
            gone.close()		# its logout must never run
            t0 = time.time()
            r = c.call("whoami")
            self.assertEqual(r["error"]["code"], "E_BUSY", r)
            self.assertLess(time.time() - t0, 1.5)
            time.sleep(2.5)		# b has waited past queue_timeout
            holder.stdin.write("commit;\n")
            holder.stdin.flush()
            self.assertTrue(a.recv()["ok"])
            r = b.recv()
            self.assertEqual(r["error"]["code"], "E_BUSY", r)
            # The logout of the client that left did not run.
            _, out, _ = s.psql(
                "select count(*) from staff_sessions ss join staff st"
                " on st.id = ss.staff_id where st.login = 'abuse.q'"
                " and ss.ended_at is not null")
            self.assertEqual(out, "0")
            self.assertIn("whoami", d.daemon.read_log())
            for cl in (a, b, c):
                cl.close()
        finally:
            if holder is not None:
                holder.stdin.close()
                holder.wait(10)
            d.stop()


if __name__ == "__main__":
    unittest.main()
