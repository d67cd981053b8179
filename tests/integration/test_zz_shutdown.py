"""SIGTERM: a request in flight is answered, then the server exits 0.
Runs last (by name): it also stops the shared server and checks that its
log carries no sanitizer report."""

import threading
import time
import unittest

import harness


class TestShutdown(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()

    def test_sigterm_finishes_in_flight_request(self):
        d = harness.Daemon(self.s, "second", harness.free_port()).start()
        self.s.daemons.append(d)
        idle = self.s.connect(port=d.port)
        idle.hello()
        c = self.s.connect(port=d.port)
        c.hello()
        # A login costs a scrypt hash (about 100 ms): SIGTERM lands while
        # it runs.
        c.send({"id": 5, "op": "login", "args": {
            "login": "dir.a", "password": self.s.users["dir.a"]}})
        time.sleep(0.02)
        status = {}
        t = threading.Thread(target=lambda: status.update(rc=d.stop()))
        t.start()
        reply = c.recv()
        self.assertEqual(reply["id"], 5)
        self.assertTrue(reply["ok"], reply)
        self.assertTrue(c.closed())
        self.assertTrue(idle.closed())
        t.join(30)
        self.assertEqual(status.get("rc"), 0, d.read_log()[-2000:])
        log = d.read_log()
        self.assertIn("shutting down", log)
        self.assertIn("stopped", log)
        self.assertIsNone(harness.sanitizer_report(log))
        c.close()
        idle.close()

    def test_shared_server_exits_cleanly(self):
        rc = self.s.main.stop()
        log = self.s.main.read_log()
        self.assertEqual(rc, 0, log[-2000:])
        self.assertIsNone(harness.sanitizer_report(log))


if __name__ == "__main__":
    unittest.main()
