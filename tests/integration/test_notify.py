"""Notification sheets, reminders, lists and the director's account
operations (DESIGN.md §4, §7): the PDFs are read back with pdftotext.

Each test imports a school of its own and works as its director."""

import csv
import io
import os
import re
import stat
import unittest

import harness
from harness import line, uai

PASSWORD_RE = r"[A-HJ-NP-Za-km-z2-9]{10}"


class NotifyCase(unittest.TestCase):
    number = 0

    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()

    def school(self, rows_for):
        """Import a new school from rows_for(uai, prefix) and give it a
        director; returns (uai, director login)."""
        NotifyCase.number += 1
        n = NotifyCase.number
        S = uai(3320000 + n)
        self.s.import_rows(rows_for(S, "N%d" % n), "n%d.csv" % n)
        director = "dir.n%d" % n
        self.s.add_staff(director, "directeur", [S], "Direction N%d" % n)
        return S, director

    def out(self, name):
        return os.path.join(self.s.dir, name)

    def notify(self, director, *selection, out=None, expect=0):
        out = out or self.out("notify.pdf")
        res = self.s.ctl("notify", "--paper", "--out", out, *selection,
                         user=director, json=True)
        self.assertEqual(res.returncode, expect, res.stderr)
        return (__import__("json").loads(res.stdout), out) if expect == 0 \
            else res

    def search(self, director, *args):
        return self.s.ctl_json("search", *args, user=director)

    def account(self, login):
        _, row, _ = self.s.psql(
            "select state || '|' || coalesce(to_char(letter_at, 'YYYY-MM-DD'"
            " ), '') || '|' || (password_hash is not null)::text from"
            " accounts where login = '%s'" % login)
        return row.split("|")


def family_school(S, p):
    """A school whose guardians have names only an embedded font prints,
    siblings, a non-legal step-parent and an ineligible pupil."""
    return [
        line(S, p + "P1", "ŒUVRARD", "Éloïse", p + "G1", "ŒUVRARD",
             "Hélène", classe="CP", niveau="CP"),
        line(S, p + "P2", "ŒUVRARD", "Noé", p + "G1", "ŒUVRARD", "Hélène",
             classe="CE1", niveau="CE1"),
        line(S, p + "P3", "STRAẞER", "Jürgen", p + "G2", "STRAẞER", "Uwe",
             classe="CP", niveau="CP"),
        line(S, p + "P3", "STRAẞER", "Jürgen", p + "G3", "NGUYỄN", "Thảo",
             classe="CP", niveau="CP"),
        line(S, p + "P3", "STRAẞER", "Jürgen", p + "G4", "BEAUPÈRE", "Luc",
             legal="non", classe="CP", niveau="CP"),
        line(S, p + "P4", "SANSINE", "Ana", p + "G5", "SANSINE", "Paul",
             ine="", classe="CP", niveau="CP"),
        line(S, p + "P5", "AUTRE", "Zoé", p + "G6", "AUTRE", "Marc",
             classe="CE1", niveau="CE1"),
    ]


class TestSheets(NotifyCase):
    def test_sheets_read_back(self):
        S, d = self.school(family_school)
        # A guardian of this school with a child in another school too.
        other = uai(3329999)
        self.s.import_rows([line(other, "NXP1", "AILLEURS", "Léon",
                                 "N%dG1" % NotifyCase.number, "ŒUVRARD",
                                 "Hélène")], "other.csv")
        result, pdf = self.notify(d, "--all")
        rows = self.search(d)
        accounts = {r["login"]: r for r in rows if r["eligible"]}
        pages = harness.pdf_pages(pdf)
        # One page per eligible guardian of the selection.
        self.assertEqual(len(pages), len(accounts))
        self.assertEqual(len(result["notified"]), len(accounts))
        self.assertEqual(sorted(x["login"] for x in result["notified"]),
                         sorted(accounts))
        skipped = {x["guardian"]: x["reason"] for x in result["skipped"]}
        self.assertIn("pas responsable légal", skipped["BEAUPÈRE Luc"])
        self.assertIn("INE manquant", skipped["SANSINE Paul"])
        for login, row in accounts.items():
            page = next(p for p in pages if login in p)
            self.assertIn(row["guardian"], page)
            self.assertIn(row["password"], page)
            self.assertRegex(row["password"], "^" + PASSWORD_RE + "$")
            # Every child of that guardian in this school, and only those.
            kids = {r["pupil"] for r in rows if r["login"] == login}
            for kid in kids:
                self.assertIn(kid, page)
            self.assertNotIn("AILLEURS", page)
            self.assertEqual(row["state"], "notifie")
        # Names only an embedded font prints survive pdftotext.
        text = "".join(pages)
        for name in ("ŒUVRARD Hélène", "STRAẞER Uwe", "NGUYỄN Thảo",
                     "ŒUVRARD Éloïse"):
            self.assertIn(name, text)
        # Sorted by class then pupil: the CP pages come first.
        first_cp = [i for i, p in enumerate(pages) if "classe CP" in p]
        self.assertEqual(first_cp, list(range(len(first_cp))))
        # Ineligible guardians never appear.
        self.assertNotIn("BEAUPÈRE", text)
        self.assertNotIn("SANSINE Paul", text)
        # The file holds passwords: only its owner reads it.
        self.assertEqual(stat.S_IMODE(os.stat(pdf).st_mode), 0o600)

    def test_class_selection_and_foreign_school_never_appear(self):
        S, d = self.school(family_school)
        result, pdf = self.notify(d, "--class", "CE1")
        text = "".join(harness.pdf_pages(pdf))
        self.assertIn("AUTRE Marc", text)
        self.assertIn("ŒUVRARD Hélène", text)   # through her CE1 son
        self.assertNotIn("STRAẞER", text)
        self.assertNotIn("Jules Ferry", text)    # the demo schools
        for x in result["notified"]:
            self.assertNotIn(x["login"], [r["login"] for r in
                                          self.s.ctl_json("search",
                                                          user="dir.a")])

    def test_reminder_letter_carries_no_password(self):
        S, d = self.school(family_school)
        self.notify(d, "--all")
        rows = {r["login"]: r for r in self.search(d) if r["eligible"]}
        login = next(l for l, r in rows.items() if r["guardian"] ==
                     "AUTRE Marc")
        old = rows[login]["password"]
        # The guardian activates at the guichet (simulated in SQL).
        self.s.psql("update accounts set state = 'attente', provisional ="
                    " null, password_hash = 'x' where login = '%s'" % login)
        self.s.psql("update accounts set state = 'active' where login ="
                    " '%s'" % login)
        result, pdf = self.notify(d, "--login", login)
        self.assertEqual(result["notified"][0]["letter"], "rappel")
        pages = harness.pdf_pages(pdf)
        self.assertEqual(len(pages), 1)
        self.assertIn(login, pages[0])
        self.assertIn("inchangé", pages[0])
        self.assertNotIn(old, pages[0])
        self.assertIsNone(re.search(r"mot de passe provisoire", pages[0]))
        self.assertEqual(self.account(login)[0], "active")
        self.assertEqual(self.search(d, "--query", login)[0]["password"],
                         "******")


class TestReprintRules(NotifyCase):
    def test_reprint_keeps_password_and_restarts_three_months(self):
        S, d = self.school(family_school)
        self.notify(d, "--all")
        before = {r["login"]: r["password"] for r in self.search(d)
                  if r["eligible"]}
        self.s.psql("update accounts set letter_at = now() - interval"
                    " '40 days' where login in (%s)" % ",".join(
                        "'%s'" % l for l in before))
        result, pdf = self.notify(d, "--all")
        self.assertEqual({x["letter"] for x in result["notified"]},
                         {"réimpression"})
        after = {r["login"]: r["password"] for r in self.search(d)
                 if r["eligible"]}
        self.assertEqual(before, after)
        text = "".join(harness.pdf_pages(pdf))
        for login, password in after.items():
            self.assertIn(password, text)
            # The letter is dated today again: valid three more months.
            self.assertEqual(self.account(login)[1], self.today())
        _, expires, _ = self.s.psql(
            "select to_char((now() + interval '3 months') at time zone"
            " 'Europe/Paris', 'DD/MM/YYYY')")
        self.assertIn("Valable jusqu'au " + expires, text)

    def today(self):
        return self.s.psql("select to_char(now(), 'YYYY-MM-DD')")[1]

    def test_expired_letter_gives_a_new_password(self):
        S, d = self.school(family_school)
        self.notify(d, "--all")
        rows = [r for r in self.search(d) if r["eligible"]]
        login, old = rows[0]["login"], rows[0]["password"]
        self.s.psql("update accounts set letter_at = now() - interval"
                    " '4 months' where login = '%s'" % login)
        row = self.search(d, "--query", login)[0]
        self.assertTrue(row["expired"])
        human = self.s.ctl("search", "--query", login, user=d).stdout
        self.assertIn("Notifié (expiré)", human)
        result, pdf = self.notify(d, "--login", login)
        self.assertEqual(result["notified"][0]["letter"],
                         "nouveau mot de passe")
        new = self.search(d, "--query", login)[0]["password"]
        self.assertNotEqual(new, old)
        page = harness.pdf_pages(pdf)[0]
        self.assertIn(new, page)
        self.assertNotIn(old, page)

    def test_reset_replaces_the_password_and_produces_the_sheet(self):
        S, d = self.school(family_school)
        self.notify(d, "--all")
        row = [r for r in self.search(d) if r["eligible"]][0]
        login, old = row["login"], row["password"]
        # The guardian had chosen a password: reset discards it.
        self.s.psql("update accounts set state = 'attente', provisional ="
                    " null, password_hash = 'x' where login = '%s'" % login)
        out = self.out("reset.pdf")
        res = self.s.ctl("reset", login, "--out", out, user=d, json=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        state, _, has_hash = self.account(login)
        self.assertEqual((state, has_hash), ("notifie", "false"))
        new = self.search(d, "--query", login)[0]["password"]
        self.assertNotEqual(new, old)
        pages = harness.pdf_pages(out)
        self.assertEqual(len(pages), 1)
        self.assertIn(new, pages[0])
        self.assertNotIn(old, pages[0])
        # The old password no longer opens: the stored one is the new.
        self.assertEqual(self.s.ctl_json("show", login, user=d)["password"],
                         new)

    def test_reset_refuses_what_it_cannot_do(self):
        S, d = self.school(family_school)
        rows = [r for r in self.search(d) if r["eligible"]]
        res = self.s.ctl("reset", rows[0]["login"], "--out",
                         self.out("x.pdf"), user=d)
        self.assertEqual(res.returncode, 1)
        self.assertIn("E_BAD_TRANSITION", res.stderr)
        self.assertIn("jamais été notifié", res.stderr)
        res = self.s.ctl("reset", "nobody.here1", user=d)
        self.assertIn("E_NOT_FOUND", res.stderr)

    def test_helpdesk_resets_but_does_not_notify(self):
        S, d = self.school(family_school)
        self.notify(d, "--all")
        login = [r for r in self.search(d) if r["eligible"]][0]["login"]
        res = self.s.ctl("reset", login, "--out", self.out("h.pdf"),
                         user="help")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(len(harness.pdf_pages(self.out("h.pdf"))), 1)
        res = self.s.ctl("--school", S, "notify", "--paper", "--out",
                         self.out("h2.pdf"), "--all", user="help")
        self.assertEqual(res.returncode, 1)
        self.assertIn("E_FORBIDDEN", res.stderr)


class TestScopeAndAtomicity(NotifyCase):
    def test_director_of_a_cannot_touch_school_b(self):
        S, d = self.school(family_school)
        T, other = self.school(family_school)
        login = [r for r in self.search(other) if r["eligible"]][0]["login"]
        docs = int(self.s.psql("select count(*) from documents")[1])
        for args in (["--school", T, "notify", "--paper", "--out",
                      self.out("b.pdf"), "--all"],
                     ["--school", T, "list", "--out", self.out("b.csv")],
                     ["reset", login, "--out", self.out("b2.pdf")],
                     ["show", login]):
            res = self.s.ctl(*args, user=d)
            self.assertEqual(res.returncode, 1, args)
            self.assertIn("E_FORBIDDEN", res.stderr, args)
        self.assertEqual(self.account(login)[0], "precree")
        self.assertEqual(int(self.s.psql("select count(*) from documents")
                             [1]), docs)
        for f in ("b.pdf", "b.csv", "b2.pdf"):
            self.assertFalse(os.path.exists(self.out(f)))

    def test_interrupted_batch_leaves_no_account_notified(self):
        S, d = self.school(family_school)
        rows = [r for r in self.search(d) if r["eligible"]]
        victim = rows[-1]["login"]
        # A database error in the middle of the batch.
        self.s.psql("""
            create function fail_for_victim() returns trigger
            language plpgsql as $$ begin
                if new.login = '%s' then
                    raise exception 'panne simulée';
                end if;
                return new;
            end $$;
            create trigger fail_victim before update on accounts
            for each row execute function fail_for_victim();""" % victim)
        try:
            events = int(self.s.psql("select count(*) from events")[1])
            res = self.notify(d, "--all", expect=1)
            self.assertIn("E_", res.stderr)
            self.assertFalse(os.path.exists(self.out("notify.pdf.tmp")))
        finally:
            self.s.psql("drop trigger fail_victim on accounts;"
                        " drop function fail_for_victim()")
        for r in self.search(d):
            if r["eligible"]:
                self.assertEqual(r["state"], "precree", r["login"])
                self.assertIsNone(r["password"])
        self.assertEqual(int(self.s.psql("select count(*) from events")[1]),
                         events)
        # And the same batch goes through once the fault is gone.
        result, _ = self.notify(d, "--all")
        self.assertEqual(len(result["notified"]),
                         len({r["login"] for r in rows}))


class TestTransfer(NotifyCase):
    def test_client_gone_mid_transfer_loses_nothing(self):
        S, d = self.school(family_school)
        c = self.s.connect()
        c.hello()
        self.assertTrue(c.login(d, self.s.users[d])["ok"])
        c.send({"id": 7, "op": "notify", "args": {"all": True}})
        reply = c.recv()
        self.assertTrue(reply["ok"], reply)
        blob = reply["blob"]
        self.assertGreater(blob["size"], 100000)
        self.assertRegex(blob["sha256"], "^[0-9a-f]{64}$")
        self.assertRegex(blob["name"], r"^Educonnect-Notifications-[0-9]{14}"
                         r"\.pdf$")
        # Read one frame of the document, then vanish.
        (n,) = __import__("struct").unpack(">I", c.recv_exact(4))
        self.assertLessEqual(n, 256 * 1024)
        c.close()
        passwords = {r["login"]: r["password"] for r in self.search(d)
                     if r["eligible"]}
        # The reprint gives the same valid passwords.
        result, pdf = self.notify(d, "--all")
        self.assertEqual({x["letter"] for x in result["notified"]},
                         {"réimpression"})
        text = "".join(harness.pdf_pages(pdf))
        for login, password in passwords.items():
            self.assertIn(password, text)


class TestListShowJournalStats(NotifyCase):
    def test_list_pdf_and_csv(self):
        S, d = self.school(family_school)
        self.notify(d, "--class", "CE1")
        rows = self.search(d)
        res = self.s.ctl("list", "--out", self.out("l.csv"), user=d)
        self.assertEqual(res.returncode, 0, res.stderr)
        with open(self.out("l.csv"), encoding="utf-8-sig") as f:
            table = list(csv.reader(f, delimiter=";"))
        self.assertEqual(table[0], ["Élève", "Classe", "Responsable",
                                    "Identifiant", "Mot de passe", "État"])
        got = {(t[0], t[2]): t for t in table[1:]}
        for r in rows:
            if r["guardian"] is None:
                continue
            t = got[(r["pupil"], r["guardian"])]
            self.assertEqual(t[3], r["login"] or "")
            self.assertEqual(t[4], r["password"] or "")
        self.assertTrue(any(t[4] and t[5] == "Notifié et non activé"
                            for t in table[1:]))
        self.assertTrue(any(t[5] == "Non notifié" for t in table[1:]))
        res = self.s.ctl("list", "--out", self.out("l.pdf"), "--class",
                         "CE1", user=d)
        self.assertEqual(res.returncode, 0, res.stderr)
        text = "".join(harness.pdf_pages(self.out("l.pdf")))
        for r in rows:
            if r["class"] == "CE1" and r["password"]:
                self.assertIn(r["password"], text)
                self.assertIn(r["guardian"], text)
        self.assertNotIn("STRAẞER Uwe", text)  # a CP guardian

    def test_show_journal_and_documents_record(self):
        S, d = self.school(family_school)
        self.notify(d, "--all")
        login = [r for r in self.search(d) if r["guardian"] ==
                 "ŒUVRARD Hélène"][0]["login"]
        card = self.s.ctl_json("show", login, user=d)
        self.assertEqual(card["state"], "notifie")
        self.assertEqual({c["name"] for c in card["children"]},
                         {"ŒUVRARD Éloïse", "ŒUVRARD Noé"})
        self.assertEqual(len(card["letters"]), 1)
        self.assertEqual([e["action"] for e in card["events"]],
                         ["create", "notify_paper"])
        self.assertEqual(card["events"][1]["actor"], d)
        journal = self.s.ctl_json("journal", user=d)
        self.assertEqual(len(self.s.ctl_json("journal", "--limit", "1",
                                             user=d)), 1)
        res = self.s.ctl("journal", "--limit", "0", user=d)
        self.assertEqual(res.returncode, 1)
        self.assertIn("E_INVALID", res.stderr)
        actions = [e["action"] for e in journal]
        self.assertIn("document_notification", actions)
        self.assertIn("notify_paper", actions)
        # The record of the document holds no password.
        password = card["password"]
        _, docs, _ = self.s.psql("select string_agg(d::text, ' ') from"
                                 " documents d")
        self.assertNotIn(password, docs)
        _, n, _ = self.s.psql("select count(*) from documents where"
                              " kind = 'notification' and school_id ="
                              " (select id from schools where uai = '%s')"
                              % S)
        self.assertEqual(n, "1")

    def test_stats_counts_shares_and_expiring(self):
        S, d = self.school(family_school)
        self.notify(d, "--class", "CE1")
        rows = [r for r in self.search(d) if r["eligible"]]
        notified = {r["login"] for r in rows if r["state"] == "notifie"}
        active = sorted(notified)[0]
        self.s.psql("update accounts set state = 'attente' where login ="
                    " '%s'" % active)
        self.s.psql("update accounts set state = 'active' where login ="
                    " '%s'" % active)
        soon = sorted(notified)[1]
        self.s.psql("update accounts set letter_at = now() - interval"
                    " '3 months' + interval '10 days' where login = '%s'"
                    % soon)
        st = self.s.ctl_json("stats", user=d)
        logins = {r["login"] for r in rows}
        self.assertEqual(st["active"], 1)
        self.assertEqual(st["notifie"], len(notified) - 1)
        self.assertEqual(st["precree"], len(logins) - len(notified))
        self.assertEqual(st["total"], len(logins))
        self.assertAlmostEqual(st["guardians"]["share"], 1 / len(logins))
        pupils = {r["pupil_id"] for r in rows}
        all_pupils = {r["pupil_id"] for r in self.search(d)}
        with_active = {r["pupil_id"] for r in rows if r["login"] == active}
        self.assertEqual(st["pupils"]["total"], len(all_pupils))
        self.assertEqual(st["pupils"]["with_activated"], len(with_active))
        self.assertEqual(st["expiring_15_days"], 1)
        self.assertEqual(st["expiring"][0]["login"], soon)
        ce1 = next(c for c in st["classes"] if c["name"] == "CE1")
        self.assertEqual(ce1["states"]["active"] + ce1["states"]["notifie"],
                         ce1["total"])
        self.assertTrue(pupils)


if __name__ == "__main__":
    unittest.main()
