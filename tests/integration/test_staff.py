"""Staff accounts: creation with a generated or given first password,
refusals with clear reasons, SSH keys, and the audit events."""

import os
import subprocess
import unittest

import harness


class TestStaff(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()

    def test_generated_password_is_shown_once_and_works(self):
        res = self.s.ctl("staff", "add", "gen.pw", "--role", "assistance",
                         "--name", "Génération Test", user="admin")
        self.assertEqual(res.returncode, 0, res.stderr)
        password = res.stdout.strip().split()[-1]
        self.assertGreaterEqual(len(password), 16)
        c = self.s.connect()
        c.hello()
        self.assertTrue(c.login("gen.pw", password)["ok"])
        c.close()
        listing = self.s.ctl("staff", "list", user="admin").stdout
        self.assertNotIn(password, listing)

    def test_initial_password_file(self):
        path = os.path.join(self.s.dir, "initial")
        with open(path, "w") as f:
            f.write("Choisi-2026-abc\n")
        res = self.s.ctl("staff", "add", "given.pw", "--role", "directeur",
                         "--school", harness.SCHOOL_B, "--name", "Dir Donné",
                         "--initial-password-file", path, user="admin")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertNotIn("Choisi", res.stdout)
        c = self.s.connect()
        c.hello()
        r = c.login("given.pw", "Choisi-2026-abc")
        self.assertTrue(r["ok"], r)
        self.assertEqual([s["uai"] for s in r["result"]["schools"]],
                         [harness.SCHOOL_B])
        c.close()
        with open(path, "w") as f:
            f.write("court1\n")
        res = self.s.ctl("staff", "add", "weak.pw", "--role", "assistance",
                         "--name", "X", "--initial-password-file", path,
                         user="admin")
        self.assertEqual(res.returncode, 1)
        self.assertIn("E_INVALID", res.stderr)

    def test_refusals_say_why(self):
        cases = [
            (["staff", "add", "dir.a", "--role", "assistance", "--name", "X"],
             "E_CONFLICT", "existe déjà"),
            (["staff", "add", "r.x", "--role", "chef", "--name", "X"],
             "E_INVALID", "Rôle inconnu"),
            (["staff", "add", "d.x", "--role", "directeur", "--name", "X"],
             "E_INVALID", "au moins une école"),
            (["staff", "add", "d.y", "--role", "directeur", "--name", "X",
              "--school", "0330001A"], "E_INVALID", "lettre de contrôle"),
            (["staff", "add", "Bad Login", "--role", "admin", "--name", "X"],
             "E_INVALID", "Identifiant invalide"),
            (["staff", "add", "h.x", "--role", "assistance", "--name", "X",
              "--school", harness.SCHOOL_A], "E_INVALID", "toute l'académie"),
            (["staff", "disable", "nobody"], "E_NOT_FOUND", "nobody"),
            (["staff", "disable", "admin"], "E_INVALID", "propre compte"),
        ]
        for args, code, words in cases:
            res = self.s.ctl(*args, user="admin")
            self.assertEqual(res.returncode, 1, args)
            self.assertIn(code, res.stderr, args)
            self.assertIn(words, res.stderr, args)

    def test_staff_add_creates_unknown_school_and_lists_it(self):
        uai = "0339999" + "ABCDEFGHJKLMNPRSTUVWXYZ"[339999 % 23]
        self.s.add_staff("dir.new", "directeur", [uai.lower()], "Nouvelle École")
        staff = {s["login"]: s for s in self.s.ctl_json("staff", "list",
                                                       user="admin")}
        self.assertEqual(staff["dir.new"]["schools"], [uai])
        self.assertEqual(staff["dir.new"]["role"], "directeur")

    def test_set_key(self):
        key = os.path.join(self.s.dir, "id_test")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        key], check=True)
        res = self.s.ctl("staff", "set-key", "dir.a", key + ".pub",
                         user="admin")
        self.assertEqual(res.returncode, 0, res.stderr)
        staff = {s["login"]: s for s in self.s.ctl_json("staff", "list",
                                                       user="admin")}
        self.assertTrue(staff["dir.a"]["ssh_key"])
        with open(key + ".bad", "w") as f:
            f.write("ssh-ed25519 AAAAnotbase64!!! x\n")
        res = self.s.ctl("staff", "set-key", "dir.a", key + ".bad",
                         user="admin")
        self.assertEqual(res.returncode, 1)
        self.assertIn("E_INVALID", res.stderr)

    def test_every_staff_change_is_an_event(self):
        self.s.add_staff("audit.me", "assistance", [], "Audit Test")
        self.s.ctl("staff", "disable", "audit.me", user="admin")
        _, out, _ = self.s.psql(
            "select string_agg(e.action || ':' || e.actor || ':' || e.channel,"
            " ',' order by e.id) from events e join staff s on s.id ="
            " e.staff_id where s.login = 'audit.me'")
        self.assertEqual(out, "staff_add:admin:ecadmctl,"
                              "staff_disable:admin:ecadmctl")


    def test_director_refused_before_any_request(self):
        """An admin command run by a director is refused by ecadmctl from
        the roles of its operation (proto-ops.def): the code and status of
        the server's refusal, a sentence saying why, and no request."""
        before = self.s.main.read_log().count(" staff-list ")
        res = self.s.ctl("staff", "list", user="dir.a")
        self.assertEqual(res.returncode, 1, res.stderr)
        self.assertEqual(res.stdout, "")
        self.assertIn("E_FORBIDDEN", res.stderr)
        self.assertIn("« staff list » est réservée au rôle Administrateur",
                      res.stderr)
        self.assertIn("votre compte a le rôle Directeur", res.stderr)
        self.assertEqual(self.s.main.read_log().count(" staff-list "),
                         before)
        # A role the operation allows goes on to the server.
        self.assertEqual(self.s.ctl("staff", "list", user="admin")
                         .returncode, 0)
        self.assertGreater(self.s.main.read_log().count(" staff-list "),
                           before)

if __name__ == "__main__":
    unittest.main()
