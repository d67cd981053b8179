"""Staff login, lockout, sessions (expiry, resume, logout, disabling) and
the exit statuses of ecadmctl."""

import os
import unittest

import harness


class TestLogin(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()

    def test_good_login(self):
        c = self.s.connect()
        self.assertTrue(c.hello()["ok"])
        r = c.login("dir.a", self.s.users["dir.a"])
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["result"]["role"], "directeur")
        self.assertEqual([s["uai"] for s in r["result"]["schools"]],
                         [harness.SCHOOL_A])
        self.assertEqual(len(r["result"]["token"]), 64)
        self.assertEqual(c.call("whoami")["result"]["login"], "dir.a")
        c.close()

    def test_bad_password_and_unknown_login_look_the_same(self):
        c = self.s.connect()
        c.hello()
        bad = c.login("dir.b", "not-the-password1")
        unknown = c.login("nobody", "not-the-password1")
        for r in (bad, unknown):
            self.assertFalse(r["ok"])
            self.assertEqual(r["error"]["code"], "E_AUTH")
        self.assertEqual(bad["error"]["message"], unknown["error"]["message"])
        self.assertIn("incorrect", bad["error"]["message"])
        c.close()

    def test_operation_before_login_is_refused(self):
        c = self.s.connect()
        c.hello()
        r = c.call("search")
        self.assertEqual(r["error"]["code"], "E_AUTH")
        c.close()

    def test_lockout_after_repeated_failures(self):
        self.s.add_staff("lock.me", "assistance", [], "Verrou Test")
        c = self.s.connect()
        c.hello()
        for _ in range(5):
            self.assertEqual(c.login("lock.me", "wrong-pass-1")["error"]["code"],
                             "E_AUTH")
        r = c.login("lock.me", self.s.users["lock.me"])
        self.assertEqual(r["error"]["code"], "E_AUTH")
        # Locked says no more than a wrong password: the same answer.
        unknown = c.login("nobody", "wrong-pass-1")
        self.assertEqual(r["error"]["message"], unknown["error"]["message"])
        self.assertIn("trop de tentatives", r["error"]["message"])
        _, locked, _ = self.s.psql(
            "select locked_until > now() from staff where login = 'lock.me'")
        self.assertEqual(locked, "t")
        c.close()

    def test_idle_session_expires(self):
        c = self.s.connect()
        c.hello()
        self.assertTrue(c.login("dir.b", self.s.users["dir.b"])["ok"])
        self.assertTrue(c.call("whoami")["ok"])
        # An hour without a request, as seen from the database.
        self.s.psql("update staff_sessions set last_seen = now() - "
                    "interval '1 hour' where staff_id = (select id from "
                    "staff where login = 'dir.b') and ended_at is null")
        r = c.call("whoami")
        self.assertEqual(r["error"]["code"], "E_AUTH")
        self.assertIn("Session expirée", r["error"]["message"])
        # The session is gone from the connection too.
        self.assertEqual(c.call("classes")["error"]["code"], "E_AUTH")
        c.close()

    def test_resume_and_logout(self):
        c = self.s.connect()
        c.hello()
        token = c.login("dir.a", self.s.users["dir.a"])["result"]["token"]
        other = self.s.connect()
        other.hello()
        r = other.call("resume", token=token)
        self.assertTrue(r["ok"], r)
        self.assertNotIn("token", r["result"])
        self.assertEqual(other.call("whoami")["result"]["login"], "dir.a")
        self.assertTrue(c.call("logout")["ok"])
        self.assertEqual(c.call("whoami")["error"]["code"], "E_AUTH")
        # Logged out everywhere: the other connection's next check fails.
        self.assertEqual(other.call("whoami")["error"]["code"], "E_AUTH")
        third = self.s.connect()
        third.hello()
        self.assertEqual(third.call("resume", token=token)["error"]["code"],
                         "E_AUTH")
        for x in (c, other, third):
            x.close()

    def test_disabled_staff_loses_its_session(self):
        self.s.add_staff("leaving", "assistance", [], "Départ Test")
        c = self.s.connect()
        c.hello()
        self.assertTrue(c.login("leaving", self.s.users["leaving"])["ok"])
        res = self.s.ctl("staff", "disable", "leaving", user="admin")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(c.call("whoami")["error"]["code"], "E_AUTH")
        d = self.s.connect()
        d.hello()
        r = d.login("leaving", self.s.users["leaving"])
        self.assertEqual(r["error"]["code"], "E_AUTH")
        # Disabled says no more than a wrong password: the same answer.
        unknown = d.login("nobody", "wrong-pass-1")
        self.assertEqual(r["error"]["message"], unknown["error"]["message"])
        c.close()
        d.close()


class TestCtlExitStatus(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()

    def test_refused_is_1_with_code_on_stderr(self):
        res = self.s.ctl("classes", user="dir.a", password="wrong-pass-1")
        self.assertEqual(res.returncode, 1)
        self.assertIn("E_AUTH", res.stderr)

    def test_usage_is_2(self):
        res = self.s.ctl("no-such-command", user="dir.a")
        self.assertEqual(res.returncode, 2)
        self.assertIn("usage", res.stderr)
        res = self.s.ctl("search", "--bogus", user="dir.a")
        self.assertEqual(res.returncode, 2)

    def test_no_server_is_3(self):
        res = self.s.ctl("classes", user="dir.a", port=harness.free_port())
        self.assertEqual(res.returncode, 3)
        self.assertIn("connexion", res.stderr)

    def test_wrong_ca_is_3(self):
        other = os.path.join(self.s.dir, "other-ca")
        self.s.run("sh", os.path.join(harness.ROOT, "tools/mkcerts.sh"),
                   other)
        res = self.s.ctl("classes", user="dir.a", env={
            "ECADM_CA": os.path.join(other, "ca.crt")})
        # --ca on the command line wins over the environment...
        self.assertEqual(res.returncode, 0, res.stderr)
        cmd_ca = ["--ca", os.path.join(other, "ca.crt")]
        res = self.s.ctl(*cmd_ca, "classes", user="dir.a")
        self.assertEqual(res.returncode, 3)
        self.assertIn("certificate", res.stderr)

    def test_password_file(self):
        path = os.path.join(self.s.dir, "pw-dir-a")
        with open(path, "w") as f:
            f.write(self.s.users["dir.a"] + "\n")
        res = self.s.ctl("--user", "dir.a", "--password-file", path,
                         "--json", "stats")
        self.assertEqual(res.returncode, 0, res.stderr)

    def test_settings_from_config_file(self):
        cfg = os.path.join(self.s.dir, ".config", "ecadm")
        os.makedirs(cfg, exist_ok=True)
        with open(os.path.join(cfg, "config"), "w") as f:
            f.write("[ecadm]\nserver = 127.0.0.1:%d\nca = %s\nuser = dir.a\n"
                    % (self.s.main.port,
                       os.path.join(self.s.tls, "ca.crt")))
        try:
            import subprocess
            res = subprocess.run(
                [os.path.join(harness.BUILD, "ecadmctl"), "--json", "stats"],
                capture_output=True, text=True,
                env=self.s.env(ECADM_PASSWORD=self.s.users["dir.a"]))
            self.assertEqual(res.returncode, 0, res.stderr)
        finally:
            os.remove(os.path.join(cfg, "config"))


if __name__ == "__main__":
    unittest.main()
