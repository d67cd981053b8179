"""Roles and school scopes, checked by the server's gate: a director sees
and touches nothing of another school; admin operations stay admin's."""

import unittest

import harness

A, B = harness.SCHOOL_A, harness.SCHOOL_B


class TestScope(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()

    def refused(self, user, *args, code="E_FORBIDDEN"):
        res = self.s.ctl(*args, user=user)
        self.assertEqual(res.returncode, 1, (args, res.stdout))
        self.assertIn(code, res.stderr)
        self.assertEqual(res.stdout, "")
        return res

    def test_director_works_in_own_school_by_default(self):
        for op in ("classes", "stats"):
            out = self.s.ctl_json(op, user="dir.a")
            self.assertEqual(out["school"] if op == "stats" else A, A)
        rows = self.s.ctl_json("search", user="dir.a")
        self.assertTrue(rows)
        self.assertEqual({r["school"] for r in rows}, {A})

    def test_director_of_a_refused_on_b(self):
        for op in ("classes", "search", "stats"):
            res = self.refused("dir.a", "--school", B, op)
            self.assertIn(B, res.stderr)
        # Lower case, same school: still refused.
        self.refused("dir.a", "--school", B.lower(), "classes")

    def test_director_of_b_sees_only_b(self):
        rows = self.s.ctl_json("--school", B, "search", user="dir.b")
        self.assertEqual({r["school"] for r in rows}, {B})
        self.refused("dir.b", "--school", A, "search")

    def test_malformed_or_unknown_school(self):
        self.refused("dir.a", "--school", "0330001A", "classes",
                     code="E_INVALID")
        self.refused("help", "--school", "0999999" +
                     "ABCDEFGHJKLMNPRSTUVWXYZ"[999999 % 23], "classes",
                     code="E_NOT_FOUND")

    def test_helpdesk_searches_the_academy(self):
        self.refused("help", "search", code="E_INVALID")
        # Three characters, not three bytes: "Éa" is two.
        self.refused("help", "search", "--query", "\u00c9a", code="E_INVALID")
        self.s.ctl_json("search", "--query", "Zo\u00e9", user="help")
        rows = self.s.ctl_json("search", "--query", "martin", user="help")
        self.assertTrue(rows)
        for r in rows:
            text = " ".join(str(r[k]) for k in ("pupil", "guardian", "login")
                            ).lower()
            self.assertIn("martin", text)
        rows_b = self.s.ctl_json("--school", B, "search", user="help")
        self.assertEqual({r["school"] for r in rows_b}, {B})

    def test_staff_operations_are_admin_only(self):
        for user in ("dir.a", "help"):
            self.refused(user, "staff", "list")
            self.refused(user, "staff", "add", "x.y", "--role", "admin",
                         "--name", "X")
            self.refused(user, "staff", "disable", "dir.b")
        out = self.s.ctl_json("staff", "list", user="admin")
        self.assertIn("dir.a", [s["login"] for s in out])

    def test_director_with_two_schools_must_choose(self):
        self.s.add_staff("dir.ab", "directeur", [A, B], "Double Direction")
        self.refused("dir.ab", "classes", code="E_INVALID")
        self.assertEqual(self.s.ctl_json("--school", B, "stats",
                                         user="dir.ab")["school"], B)
        self.assertEqual(self.s.ctl_json("--school", A, "stats",
                                         user="dir.ab")["school"], A)


if __name__ == "__main__":
    unittest.main()
