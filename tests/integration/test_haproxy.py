"""Several ecadmd, one database (DESIGN.md §12): two instances behind
HAProxy in TCP mode, TLS passed through, on a stack of their own (a test
here stops PostgreSQL and kills instances). ecadmd keeps no state outside
PostgreSQL, so:

- a session opened on one instance goes on through the other when the
  first is killed (kill -9): the client reconnects and resumes with its
  token, the raw protocol and ecadm in tmux alike;
- an instance killed in the middle of a notification batch or an import
  leaves nothing half done, and the survivor redoes it whole. The kill
  lands mid-transaction for sure: the test holds a lock on the events
  table, waits until pg_locks shows the instance's backend blocked on it
  after writing its other tables, and only then kills;
- PostgreSQL stopped under load: every request is answered E_BUSY while
  it is down, and served again once it is back, by the same processes.
"""

import csv
import json
import os
import shlex
import subprocess
import threading
import time
import unittest

import harness
from harness import SCHOOL_B
from test_tui import Tmux

# Every account's state is the last state its events give, every event
# starts from the state the previous one left, and a notified account
# has its letter: no change without its event, no event without its
# change. Each count is of the rows that break the rule.
CONSISTENCY_SQL = """
select json_build_object(
 'state_not_last_event', (select count(*) from accounts a
  where a.state is distinct from (select e.to_state from events e
   where e.account_id = a.id order by e.id desc limit 1)),
 'event_chain_broken', (select count(*) from (select e.from_state,
   lag(e.to_state) over (partition by e.account_id order by e.id) as prev
   from events e where e.account_id is not null) x
  where x.from_state is distinct from x.prev),
 'notified_without_letter', (select count(*) from accounts a
  where a.state = 'notifie' and (a.provisional is null
   or a.letter_at is null)))
"""

# The tables a batch or an import writes, counted.
TABLES = ("schools", "classes", "pupils", "guardians", "links", "accounts",
          "events", "documents")

# The client backends waiting for the lock on a table (not autovacuum,
# which may queue for it too), each with the tables its transaction has
# written so far (row exclusive locks granted) and whether it holds a
# transaction id (it has written).
WAITING_SQL = """
select w.pid || '|' || (a.backend_xid is not null) || '|' ||
 coalesce((select string_agg(distinct c.relname, ',') from pg_locks l
  join pg_class c on c.oid = l.relation where l.pid = w.pid and l.granted
  and l.mode = 'RowExclusiveLock' and c.relkind = 'r'), '')
from pg_locks w join pg_stat_activity a on a.pid = w.pid
where w.locktype = 'relation' and w.relation = '%s'::regclass
and not w.granted and a.backend_type = 'client backend'
"""


class TableLock:
    """A psql session holding a lock on a table until release(): a
    transaction that needs to write the table waits, visibly in
    pg_locks, at that point of its work."""

    def __init__(self, stack, table, mode="share"):
        self.proc = subprocess.Popen(
            [os.path.join(harness.pg_bindir(), "psql"), "-X", "-q", "-A",
             "-t", "-v", "ON_ERROR_STOP=1", stack.database_url()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=stack.env())
        self.proc.stdin.write("begin;\nlock table %s in %s mode;\n"
                              "select 'locked';\n" % (table, mode))
        self.proc.stdin.flush()
        got = self.proc.stdout.readline().strip()
        if got != "locked":
            self.proc.kill()
            raise AssertionError("lock table %s: %r %s" % (
                table, got, self.proc.stderr.read()))

    def release(self):
        if self.proc.poll() is None:
            self.proc.communicate("rollback;\n", timeout=30)


class TestHAProxy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.Stack()
        try:
            cls.s.setup()
            # The second instance: same database, certificate and key
            # file (the stack writes them into every daemon's INI).
            cls.b = harness.Daemon(cls.s, "ecadmd-b",
                                   harness.free_port()).start()
            cls.s.daemons.append(cls.b)
            cls.a = cls.s.main
            cls.hap = harness.HAProxy(cls.s, [cls.a, cls.b]).start()
        except BaseException:
            cls.s.teardown()
            raise

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "hap", None) is not None:
            cls.hap.stop()
        try:
            # The instances still running end cleanly after all this;
            # no sanitizer report in any log.
            for d in (cls.a, cls.b):
                running = d.proc.poll() is None
                rc = d.stop()
                report = harness.sanitizer_report(d.read_log())
                if report:
                    raise AssertionError("sanitizer report from %s:\n%s"
                                         % (d.name, report))
                if running and rc != 0:
                    raise AssertionError("%s exited %s: %s" % (
                        d.name, rc, d.read_log()[-2000:]))
        finally:
            cls.s.teardown()

    def setUp(self):
        # Every test starts with both instances up, and HAProxy seeing
        # them so: a test before may have killed one.
        for d in (self.a, self.b):
            if d.proc.poll() is not None:
                d.start()
        for d in (self.a, self.b):
            self.hap.wait_status(d, "UP")

    # -- helpers ---------------------------------------------------------
    def marks(self):
        """Where each instance's log ends now."""
        return {d.name: d.log_size() for d in (self.a, self.b)}

    def serving(self, marks, text):
        """The one instance whose log says text since marks, and the
        other."""
        found = [d for d in (self.a, self.b)
                 if text in d.read_log(marks[d.name])]
        self.assertEqual(len(found), 1, "%r in the logs of %s" % (
            text, [d.name for d in found]))
        other = self.b if found[0] is self.a else self.a
        return found[0], other

    def kill(self, d):
        """kill -9 an instance; HAProxy's checks take it out."""
        self.assertEqual(d.kill(), -9)
        self.hap.wait_status(d, "DOWN", timeout=10)

    def through(self, timeout=10):
        """A raw protocol client connected through HAProxy."""
        c = self.s.connect(port=self.hap.port, timeout=timeout)
        self.assertTrue(c.hello()["ok"])
        return c

    def ctl(self, *args, **kw):
        return self.s.ctl(*args, port=self.hap.port, **kw)

    def in_background(self, *args, **kw):
        """ecadmctl through HAProxy in a thread; (thread, box) where box
        gets "res", its CompletedProcess."""
        box = {}
        t = threading.Thread(target=lambda: box.update(
            res=self.ctl(*args, **kw)))
        t.start()
        return t, box

    def sql_value(self, sql):
        return self.s.psql(sql)[1]

    def consistency(self):
        bad = json.loads(self.sql_value(CONSISTENCY_SQL))
        self.assertEqual(bad, {k: 0 for k in bad},
                         "accounts and events disagree")

    def counts(self):
        return {t: int(self.sql_value("select count(*) from " + t))
                for t in TABLES}

    def school_states(self, uai):
        out = self.sql_value(
            "select a.state || '=' || count(*) from accounts a"
            " where a.guardian_id in (select l.guardian_id from links l"
            " join pupils p on p.id = l.pupil_id join schools s"
            " on s.id = p.school_id where s.uai = '%s')"
            " group by a.state order by a.state" % uai)
        return dict(x.split("=") for x in out.split())

    def wait_writer_blocked(self, table, timeout=60):
        """Wait until a backend is blocked on the lock of table; (its pid,
        the tables it has written). Fails if it has written nothing."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            row = self.sql_value(WAITING_SQL % table)
            if row:
                self.assertEqual(len(row.splitlines()), 1, row)
                pid, has_xid, written = row.split("|")
                self.assertEqual(has_xid, "true", row)
                return int(pid), set(written.split(","))
            time.sleep(0.05)
        raise AssertionError("no backend waited for %s in %ds" % (
            table, timeout))

    def wait_waiting(self, table, n, timeout=30):
        """Wait until n backends wait for the lock on table."""
        deadline = time.time() + timeout
        rows = []
        while time.time() < deadline:
            rows = self.sql_value(WAITING_SQL % table).splitlines()
            if len(rows) >= n:
                return
            time.sleep(0.05)
        raise AssertionError("%d backends waited for %s, not %d" % (
            len(rows), table, n))

    def wait_backend_gone(self, pid, timeout=60):
        """Wait until the killed instance's backend has ended (it finds
        its client gone once it runs again, and rolls back)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.sql_value("select count(*) from pg_stat_activity"
                              " where pid = %d" % pid) == "0":
                return
            time.sleep(0.1)
        raise AssertionError("backend %d still there after %ds" % (
            pid, timeout))

    # -- 1. a session survives its instance -------------------------------
    def test_session_resumed_on_the_other_instance(self):
        marks = self.marks()
        c = self.through()
        r = c.login("dir.a", self.s.users["dir.a"])
        self.assertTrue(r["ok"], r)
        token = r["result"]["token"]
        before = c.call("search")
        self.assertTrue(before["ok"], before)
        self.assertGreater(len(before["result"]["rows"]), 100)
        victim, survivor = self.serving(marks, "dir.a logged in")

        self.kill(victim)
        # Its client sees the connection end, through HAProxy.
        self.assertTrue(c.closed())
        c.close()

        marks = self.marks()
        c = self.through()
        r = c.call("resume", token=token)
        self.assertTrue(r["ok"], r)
        after = c.call("search")
        self.assertTrue(after["ok"], after)
        self.assertEqual(after["result"], before["result"])
        c.close()
        served, _ = self.serving(marks, "dir.a resumed session")
        self.assertIs(served, survivor)

    def test_ecadm_reconnects_to_the_other_instance(self):
        """ecadm in tmux: the instance dies, ecadm reconnects through
        HAProxy and resumes its session on the other one, the
        Responsables tab still there and answering."""
        marks = self.marks()
        status = os.path.join(self.s.dir, "tui-haproxy.status")
        stderr = os.path.join(self.s.dir, "tui-haproxy.stderr")
        env = {"LANG": "C.UTF-8", "TERM": "screen-256color",
               "ECADM_SERVER": "127.0.0.1:%d" % self.hap.port,
               "ECADM_CA": os.path.join(self.s.tls, "ca.crt"),
               "ECADM_USER": "dir.a",
               "ECADM_PASSWORD": self.s.users["dir.a"],
               "ECADM_DOWNLOAD_DIR": os.path.join(self.s.dir, "dl-haproxy"),
               "HOME": self.s.dir}
        t = Tmux(self.s, "haproxy", "sh -c %s" % shlex.quote(
            "%s 2>%s; echo $? >%s" % (os.path.join(harness.BUILD, "ecadm"),
                                      stderr, status)), env)
        self.addCleanup(t.close)
        t.wait_for("lignes")
        victim, survivor = self.serving(marks, "dir.a logged in")
        marks = self.marks()

        self.kill(victim)
        t.wait_for("Connexion au serveur perdue")
        screen = t.wait_for("Connexion rétablie.", timeout=30)
        self.assertNotIn("Connexion rétablie, mais", screen)
        self.assertNotIn("Identifiant  :", screen)
        self.assertIn("1 Responsables", screen)
        self.assertIn("dir.a resumed session",
                      survivor.read_log(marks[survivor.name]))
        # The resumed session answers: another tab, then back.
        t.keys("2")
        t.wait_for("Par classe")
        t.keys("1")
        t.wait_for("lignes")
        t.keys("q")

        def exit_status():
            if not os.path.exists(status):
                return ""
            with open(status) as f:
                return f.read().strip()
        deadline = time.time() + 15
        while time.time() < deadline and not exit_status():
            time.sleep(0.1)
        self.assertEqual(exit_status(), "0")
        with open(stderr) as f:
            report = harness.sanitizer_report(f.read())
        self.assertIsNone(report, report)

    # -- 2. a batch killed mid-transaction --------------------------------
    def test_notify_killed_mid_batch_then_redone(self):
        self.consistency()
        states = self.school_states(SCHOOL_B)
        self.assertIn("precree", states)
        counts = self.counts()
        out = os.path.join(self.s.dir, "haproxy-notify.pdf")

        # The batch moves the accounts, then its triggers write the
        # events: it waits there, its accounts changed and uncommitted.
        lock = TableLock(self.s, "events")
        try:
            marks = self.marks()
            thread, box = self.in_background(
                "notify", "--paper", "--out", out, "--all", user="dir.b",
                json=True)
            pid, written = self.wait_writer_blocked("events")
            self.assertIn("accounts", written)
            victim, survivor = self.serving(marks, "dir.b logged in")
            self.kill(victim)
        finally:
            lock.release()
        thread.join(60)
        self.assertEqual(box["res"].returncode, 3, box["res"].stderr)
        self.assertIn("connexion perdue", box["res"].stderr)
        self.wait_backend_gone(pid)

        # None of the batch happened.
        self.assertEqual(self.school_states(SCHOOL_B), states)
        self.assertEqual(self.counts(), counts)
        self.consistency()

        # Through the survivor, the whole batch.
        marks = self.marks()
        res = self.ctl("notify", "--paper", "--out", out, "--all",
                       user="dir.b", json=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        notified = json.loads(res.stdout)["notified"]
        self.assertGreater(len(notified), 100)
        self.assertIn("dir.b notified %d account(s)" % len(notified),
                      survivor.read_log(marks[survivor.name]))
        # Every account of the batch was still pre-created: the killed
        # batch had moved none for good.
        self.assertEqual([x["letter"] for x in notified],
                         ["nouveau mot de passe"] * len(notified))
        after = self.school_states(SCHOOL_B)
        self.assertEqual(int(states["precree"]) -
                         int(after.get("precree", 0)), len(notified))
        self.assertEqual(int(after["notifie"]),
                         int(states.get("notifie", 0)) + len(notified))
        self.assertEqual(self.counts()["documents"], counts["documents"] + 1)
        self.assertEqual(int(self.sql_value(
            "select count(*) from events where action = 'notify_paper'"
            " and school_id = (select id from schools where uai = '%s')"
            % SCHOOL_B)), len(notified))
        self.consistency()

        # A password sealed by one instance opens on the other: the key
        # file is shared. (The killed one is back, directly asked.)
        victim.start()
        seen = []
        for d in (self.a, self.b):
            rows = self.s.ctl_json("search", user="dir.b", port=d.port)
            seen.append({r["login"]: r.get("password") for r in rows
                         if r["state"] == "notifie"})
        self.assertEqual(len(seen[0]), len(notified))
        self.assertTrue(all(seen[0].values()), seen[0])
        self.assertEqual(seen[0], seen[1])

    def big_extraction(self):
        """An ONDE file of 20 new schools (gen-onde.py), its pupil and
        guardian ids made distinct from the demo's."""
        raw = os.path.join(self.s.dir, "haproxy-big-raw.csv")
        self.s.run(harness.PYTHON, os.path.join(harness.ROOT,
                                                "tools/gen-onde.py"),
                   "--schools", "20", "--first-uai", "340001", "--seed",
                   "12", "-o", raw)
        with open(raw, encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f, delimiter=";"))
        for r in rows:
            r["eleve_id"] = "HA" + r["eleve_id"]
            if r["resp_id"]:
                r["resp_id"] = "HA" + r["resp_id"]
        path = os.path.join(self.s.dir, "haproxy-big.csv")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(harness.csv_text(rows))
        return path

    def test_import_killed_mid_merge_then_redone(self):
        path = self.big_extraction()
        self.consistency()
        counts = self.counts()
        imports = self.sql_value(
            "select count(*) from events where action = 'import'")

        # The merge writes schools, classes, pupils, guardians and links,
        # then moves accounts, whose triggers write events: it waits there.
        lock = TableLock(self.s, "events")
        try:
            marks = self.marks()
            thread, box = self.in_background("import", path, user="admin",
                                             json=True)
            pid, written = self.wait_writer_blocked("events")
            self.assertTrue({"pupils", "guardians", "links"} <= written,
                            written)
            victim, survivor = self.serving(marks, "admin logged in")
            self.kill(victim)
        finally:
            lock.release()
        thread.join(60)
        self.assertEqual(box["res"].returncode, 3, box["res"].stderr)
        self.wait_backend_gone(pid)

        # Nothing of the file is there.
        self.assertEqual(self.counts(), counts)
        self.assertEqual(self.sql_value(
            "select count(*) from schools where uai like '034%'"), "0")
        self.consistency()

        # Through the survivor, the whole file, as new.
        marks = self.marks()
        res = self.ctl("import", path, user="admin", json=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        summary = json.loads(res.stdout)
        self.assertIn("import by admin",
                      survivor.read_log(marks[survivor.name]))
        self.assertEqual(summary["schools"]["created"], 20)
        for part in ("pupils", "guardians", "links"):
            self.assertEqual(summary[part]["created"],
                             summary[part]["total"], (part, summary))
        now = self.counts()
        self.assertEqual(now["schools"], counts["schools"] + 20)
        self.assertEqual(now["pupils"],
                         counts["pupils"] + summary["pupils"]["total"])
        self.assertEqual(now["accounts"], counts["accounts"] +
                         summary["accounts"]["created"])
        self.assertGreater(summary["accounts"]["created"], 1000)
        self.assertEqual(self.sql_value(
            "select count(*) from events where action = 'import'"),
            str(int(imports) + 1))
        self.consistency()

    # -- 3. PostgreSQL restarted under load -------------------------------
    def test_postgresql_restarted_under_load(self):
        pids = {d.name: d.proc.pid for d in (self.a, self.b)}
        marks = self.marks()
        # Four clients through HAProxy, round robin over the instances:
        # one logs in, the others resume its session.
        first = self.through()
        self.addCleanup(first.close)
        r = first.login("dir.a", self.s.users["dir.a"])
        self.assertTrue(r["ok"], r)
        token = r["result"]["token"]
        clients = [first]
        for _ in range(3):
            c = self.through()
            self.addCleanup(c.close)
            r = c.call("resume", token=token)
            self.assertTrue(r["ok"], r)
            clients.append(c)
        for d in (self.a, self.b):
            text = d.read_log(marks[d.name])
            self.assertTrue("dir.a logged in" in text or
                            "dir.a resumed session" in text,
                            "%s served none of the clients" % d.name)

        # Each: (sent, answered, "ok" or the error code, or what broke).
        replies = [[] for _ in clients]
        stop = threading.Event()

        def load(c, out):
            ops = ("search", "classes", "stats")
            n = 0
            while not stop.is_set():
                sent = time.monotonic()
                try:
                    r = c.call(ops[n % len(ops)])
                except Exception as e:	# a hang, a closed connection
                    out.append((sent, time.monotonic(), repr(e)))
                    return
                out.append((sent, time.monotonic(), "ok" if r["ok"]
                            else r["error"]["code"]))
                n += 1
                time.sleep(0.02)

        threads = [threading.Thread(target=load, args=(c, out))
                   for c, out in zip(clients, replies)]
        for t in threads:
            t.start()

        def wait_each(pred, n, timeout, what):
            deadline = time.time() + timeout
            while time.time() < deadline:
                if all(sum(1 for x in out if pred(x)) >= n
                       for out in replies):
                    return
                if any(out and out[-1][2] not in ("ok", "E_BUSY")
                       for out in replies):
                    break
                time.sleep(0.05)
            raise AssertionError("%s: %s" % (what, summary()))

        def summary():
            return [{o: sum(1 for x in out if x[2] == o)
                     for o in set(x[2] for x in out)} for out in replies]

        try:
            wait_each(lambda x: x[2] == "ok", 3, 30, "served before")
            # Each client's next request waits on a lock the test holds,
            # so that every instance has requests inside PostgreSQL,
            # mid-statement, when it stops.
            lock = TableLock(self.s, "classes", "access exclusive")
            try:
                self.wait_waiting("classes", len(clients))
                stopping = time.monotonic()
                self.s.pgcluster("stop")
            finally:
                lock.release()
            down = time.monotonic()
            wait_each(lambda x: x[0] > down, 5, 30, "answered while down")
            up_asked = time.monotonic()
            self.s.pgcluster("start")
            up = time.monotonic()
            wait_each(lambda x: x[0] > up and x[2] == "ok", 5, 60,
                      "served again")
        finally:
            stop.set()
            for t in threads:
                t.join(30)
            if self.s.pgcluster("status", check=False).returncode != 0:
                self.s.pgcluster("start")

        seen = summary()
        for out in replies:
            outcomes = set(x[2] for x in out)
            # Nothing but answers: no hang, no connection lost, and no
            # error but E_BUSY.
            self.assertLessEqual(outcomes, {"ok", "E_BUSY"}, seen)
            # The request PostgreSQL dropped mid-statement: E_BUSY too.
            in_flight = [x[2] for x in out if x[0] < stopping < x[1]]
            self.assertEqual(in_flight, ["E_BUSY"], seen)
            while_down = [x[2] for x in out if x[0] > down and
                          x[1] < up_asked]
            self.assertGreaterEqual(len(while_down), 5, seen)
            self.assertEqual(set(while_down), {"E_BUSY"}, seen)
            # Once it is back, every request is served: a worker whose
            # connection died while idle reconnects before running it.
            self.assertEqual(set(x[2] for x in out if x[0] > up), {"ok"},
                             seen)
            # While it is down the answer comes at once: no worker waits
            # for a database that is not there.
            self.assertLess(max(x[1] - x[0] for x in out
                                if down < x[0] and x[1] < up_asked), 3, seen)
        # The same processes, reconnected.
        for d in (self.a, self.b):
            self.assertIsNone(d.proc.poll(), d.name)
            self.assertEqual(d.proc.pid, pids[d.name])
            self.assertIn("database connection lost, reconnecting",
                          d.read_log(marks[d.name]))

        # A restart while every worker sits idle: the first request after
        # it finds its connection closed by the old PostgreSQL, and is
        # served on a new one all the same.
        self.s.pgcluster("stop")
        self.s.pgcluster("start")
        for c in clients:
            for op in ("search", "classes", "stats"):
                r = c.call(op)
                self.assertTrue(r["ok"], (op, r))
        self.consistency()


if __name__ == "__main__":
    unittest.main()
