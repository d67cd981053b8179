"""Credentials only through a link that carries an account in the school
(issue 8). A guardian is one account for the academy, but a director may
hand out its credentials (notify, reset, list, the password of search and
show) only when one of the guardian's links in their school is eligible
(DESIGN §3); show gives a director their school's events only. The
helpdesk keeps its academy-wide single-account help, and follows the same
rule when it names a school.

The world of these tests, imported once:
  X: G1 and G2 are legal guardians of eligible pupils; X's director
     notified them both.
  Y: G1 is the legal guardian of a pupil only "inscrit"; G3, a guardian
     of Y only, is eligible.
  Z: G2 is a non-legal guardian of an eligible pupil (G4 is the legal one).
  W: names a hostile extraction could carry, for the CSV export.
"""

import csv
import json
import os
import re
import unittest

import harness
from harness import line, uai

X, Y, Z, W = uai(330050), uai(330051), uai(330052), uai(330053)
DIR_X, DIR_Y, DIR_Z, DIR_W = "dir.csx", "dir.csy", "dir.csz", "dir.csw"
G1, G2 = "MARCHAND Aline", "BERGER Paul"
PASSWORD_RE = r"^[A-HJ-NP-Za-km-z2-9]{10}$"
REASON = "aucun lien éligible dans cette école"


def world():
    return [
        line(X, "CSP1", "MARCHAND", "Léa", "CSG1", "MARCHAND", "Aline",
             classe="CP", niveau="CP"),
        line(X, "CSP2", "BERGER", "Tom", "CSG2", "BERGER", "Paul",
             classe="CE1", niveau="CE1"),
        line(Y, "CSP3", "MARCHAND", "Jules", "CSG1", "MARCHAND", "Aline",
             statut="inscrit", classe="CP", niveau="CP"),
        line(Y, "CSP4", "NOEL", "Emma", "CSG3", "NOEL", "Sarah",
             classe="CP", niveau="CP"),
        line(Z, "CSP5", "ROUX", "Nina", "CSG4", "ROUX", "Claire",
             classe="CM1", niveau="CM1"),
        line(Z, "CSP5", "ROUX", "Nina", "CSG2", "BERGER", "Paul",
             legal="non", classe="CM1", niveau="CM1"),
    ]


class CredentialScopeCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        if DIR_X in cls.s.users:
            return
        cls.s.import_rows(world(), "credential-scope.csv")
        for login, school in ((DIR_X, X), (DIR_Y, Y), (DIR_Z, Z)):
            cls.s.add_staff(login, "directeur", [school],
                            "Direction " + school)
        res = cls.s.ctl("notify", "--paper", "--out",
                        os.path.join(cls.s.dir, "cs-x.pdf"), "--all",
                        user=DIR_X, json=True)
        assert res.returncode == 0, res.stderr
        assert len(json.loads(res.stdout)["notified"]) == 2, res.stdout

    def out(self, name):
        return os.path.join(self.s.dir, name)

    def row(self, user, guardian, *school):
        """The search row of that guardian, as user sees it."""
        rows = [r for r in self.s.ctl_json(*school, "search", user=user)
                if r["guardian"] == guardian]
        self.assertEqual(len(rows), 1, (user, guardian, rows))
        return rows[0]

    def login(self, guardian):
        return self.row(DIR_X, guardian)["login"]

    def password(self, guardian):
        """The provisional password, as X's director sees it."""
        p = self.row(DIR_X, guardian)["password"]
        self.assertRegex(p, PASSWORD_RE)
        return p

    def letter_at(self, login):
        return self.s.psql("select letter_at from accounts where login ="
                           " '%s'" % login)[1]


class TestSearch(CredentialScopeCase):
    def test_password_only_where_a_link_is_eligible(self):
        for guardian in (G1, G2):
            self.password(guardian)
        # Y sees G1's row (greyed, with its reason), never the password.
        row = self.row(DIR_Y, G1)
        self.assertEqual(row["login"], self.login(G1))
        self.assertFalse(row["eligible"])
        self.assertIn("inscrit", row["reason"])
        self.assertIsNone(row["password"], row)
        # Nor does Z see G2's, a non-legal guardian there.
        row = self.row(DIR_Z, G2)
        self.assertFalse(row["eligible"])
        self.assertIsNone(row["password"], row)
        # Nor the helpdesk when it names those schools.
        self.assertIsNone(self.row("help", G1, "--school", Y)["password"])
        self.assertIsNone(self.row("help", G2, "--school", Z)["password"])
        self.assertEqual(self.row("help", G1, "--school", X)["password"],
                         self.password(G1))
        # Academy-wide, the helpdesk helps the one account as before.
        rows = self.s.ctl_json("search", "--query", "marchand aline",
                               user="help")
        self.assertEqual({r["school"] for r in rows}, {X, Y})
        for r in rows:
            self.assertEqual(r["password"], self.password(G1), r)
        # The human output has no password either.
        res = self.s.ctl("search", "--query", "marchand", user=DIR_Y)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertNotIn(self.password(G1), res.stdout)


class TestNotify(CredentialScopeCase):
    def test_skipped_with_the_reason(self):
        for guardian, director, reason in ((G1, DIR_Y, "inscrit, non admis"),
                                           (G2, DIR_Z,
                                            "pas responsable légal")):
            login = self.login(guardian)
            before = self.letter_at(login)
            out = self.out("cs-skip.pdf")
            result = self.s.ctl_json("notify", "--paper", "--out", out,
                                     "--login", login, user=director)
            self.assertEqual(result["notified"], [], result)
            self.assertEqual(len(result["skipped"]), 1, result)
            skipped = result["skipped"][0]
            self.assertEqual(skipped["login"], login)
            self.assertIn(REASON, skipped["reason"])
            self.assertIn(reason, skipped["reason"])
            self.assertFalse(os.path.exists(out))
            self.assertEqual(self.letter_at(login), before)
            # Through a class or the whole school: skipped the same way,
            # the others of the school notified.
            result = self.s.ctl_json("notify", "--paper", "--out", out,
                                     "--all", user=director)
            skipped = {x["login"]: x["reason"] for x in result["skipped"]}
            self.assertIn(REASON, skipped[login])
            self.assertNotIn(login, [x["login"] for x in
                                     result["notified"]])
            self.assertEqual(len(result["notified"]), 1, result)
            self.assertNotIn(login, "".join(harness.pdf_pages(out)))
            self.assertEqual(self.letter_at(login), before)
            os.unlink(out)
        # X's director still reprints G1's letter.
        result = self.s.ctl_json("notify", "--paper", "--out",
                                 self.out("cs-x2.pdf"), "--login",
                                 self.login(G1), user=DIR_X)
        self.assertEqual([x["letter"] for x in result["notified"]],
                         ["réimpression"])
        self.assertIn(self.password(G1),
                      harness.pdf_pages(self.out("cs-x2.pdf"))[0])


class TestReset(CredentialScopeCase):
    def refused(self, user, login, *school):
        out = self.out("cs-reset.pdf")
        res = self.s.ctl(*school, "reset", login, "--out", out, user=user)
        self.assertEqual(res.returncode, 1, res.stdout)
        self.assertIn("E_NOT_ELIGIBLE", res.stderr)
        self.assertIn(REASON, res.stderr)
        self.assertFalse(os.path.exists(out))
        # Nothing of the other school in the message.
        self.assertNotIn(X, res.stderr)
        return res

    def test_refused_without_an_eligible_link(self):
        g1, g2 = self.login(G1), self.login(G2)
        p1, p2 = self.password(G1), self.password(G2)
        self.assertIn("inscrit", self.refused(DIR_Y, g1).stderr)
        self.assertIn("pas responsable légal",
                      self.refused(DIR_Z, g2).stderr)
        self.refused("help", g1, "--school", Y)
        self.assertEqual((self.password(G1), self.password(G2)), (p1, p2))
        # The helpdesk academy-wide, and X's director, still reset.
        for user in ("help", DIR_X):
            out = self.out("cs-reset-ok.pdf")
            res = self.s.ctl("reset", g1, "--out", out, user=user)
            self.assertEqual(res.returncode, 0, res.stderr)
            new = self.password(G1)
            self.assertNotEqual(new, p1)
            self.assertIn(new, harness.pdf_pages(out)[0])
            p1 = new
            os.unlink(out)


class TestList(CredentialScopeCase):
    def csv_rows(self, user):
        out = self.out("cs-list.csv")
        res = self.s.ctl("list", "--out", out, user=user)
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(out, encoding="utf-8-sig") as f:
            text = f.read()
        os.unlink(out)
        return text, list(csv.reader(text.splitlines(), delimiter=";"))

    def pdf_text(self, user):
        out = self.out("cs-list.pdf")
        res = self.s.ctl("list", "--out", out, user=user)
        self.assertEqual(res.returncode, 0, res.stderr)
        text = "".join(harness.pdf_pages(out))
        os.unlink(out)
        return text

    def test_no_password_without_an_eligible_link(self):
        for guardian, director in ((G1, DIR_Y), (G2, DIR_Z)):
            password = self.password(guardian)
            text, table = self.csv_rows(director)
            row = [t for t in table if t[2] == guardian]
            self.assertEqual(len(row), 1, table)
            self.assertEqual(row[0][3], self.login(guardian))
            self.assertEqual(row[0][4], "", row)
            self.assertNotIn(password, text)
            text = self.pdf_text(director)
            self.assertIn(guardian, text)
            self.assertNotIn(password, text)
        # X's list carries both.
        text, table = self.csv_rows(DIR_X)
        for guardian in (G1, G2):
            self.assertIn([guardian, self.password(guardian)],
                          [[t[2], t[4]] for t in table])
        text = self.pdf_text(DIR_X)
        for guardian in (G1, G2):
            self.assertIn(self.password(guardian), text)


class TestShow(CredentialScopeCase):
    def school_events(self, login, school):
        return int(self.s.psql(
            "select count(*) from events e join accounts a on"
            " a.id = e.account_id join schools s on s.id = e.school_id"
            " where a.login = '%s' and s.uai = '%s'" % (login, school))[1])

    def test_only_the_school_events_and_no_password(self):
        login = self.login(G1)
        card = self.s.ctl_json("show", login, user=DIR_X)
        self.assertEqual(card["password"], self.password(G1))
        self.assertIn(DIR_X, [e["actor"] for e in card["events"]])
        self.assertIn("notify_paper", [e["action"] for e in card["events"]])
        self.assertTrue(card["letters"])
        self.assertEqual(len(card["events"]), self.school_events(login, X))
        self.assertTrue(card["eligible"])
        for director, guardian in ((DIR_Y, G1), (DIR_Z, G2)):
            login = self.login(guardian)
            card = self.s.ctl_json("show", login, user=director)
            self.assertIsNone(card["password"], card)
            self.assertEqual(card["letters"], [], card)
            self.assertNotIn(DIR_X, [e["actor"] for e in card["events"]])
            self.assertEqual(len(card["events"]),
                             self.school_events(login, director == DIR_Y
                                                and Y or Z), card)
            self.assertFalse(card["eligible"])
            self.assertIn(REASON, card["reason"])
            self.assertEqual({c["school"] for c in card["children"]},
                             {director == DIR_Y and Y or Z})
        # The helpdesk academy-wide sees the whole history.
        card = self.s.ctl_json("show", self.login(G1), user="help")
        self.assertIn(DIR_X, [e["actor"] for e in card["events"]])
        self.assertEqual(card["password"], self.password(G1))
        card = self.s.ctl_json("--school", Y, "show", self.login(G1),
                               user="help")
        self.assertIsNone(card["password"])
        self.assertNotIn(DIR_X, [e["actor"] for e in card["events"]])


class TestCsvFormulas(unittest.TestCase):
    def test_cells_that_a_spreadsheet_would_run_are_neutralised(self):
        s = harness.stack()
        if DIR_W not in s.users:
            s.import_rows([
                line(W, "CSW1", "-Marie", "Anne", "CSWG1", "=HYPERLINK(1)",
                     "Paul", classe="+CP", niveau="CP"),
                line(W, "CSW2", "@SUM(A1)", "Léo", "CSWG2", "DURAND",
                     "-Eve", classe="+CP", niveau="CP"),
                line(W, "CSW3", "SIMPLE", "Jean-Marc", "CSWG3", "A=B",
                     "Luc", classe="CE1", niveau="CE1"),
            ], "credential-scope-w.csv")
            s.add_staff(DIR_W, "directeur", [W], "Direction " + W)
        out = os.path.join(s.dir, "cs-w.csv")
        res = s.ctl("list", "--out", out, user=DIR_W)
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(out, encoding="utf-8-sig") as f:
            table = list(csv.reader(f, delimiter=";"))
        cells = {c for t in table[1:] for c in t}
        for cell in ("'-Marie Anne", "'=HYPERLINK(1) Paul", "'+CP",
                     "'@SUM(A1) Léo", "DURAND -Eve", "SIMPLE Jean-Marc",
                     "A=B Luc", "CE1"):
            self.assertIn(cell, cells, table)
        for t in table:
            for c in t:
                self.assertIsNone(re.match(r"[=+\-@\t\r]", c), (c, t))


if __name__ == "__main__":
    unittest.main()
