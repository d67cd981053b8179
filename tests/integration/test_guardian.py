"""The guardians at the guichet (DESIGN.md §4, §8, §13): the guardian
operations spoken over TLS with the guichet's client certificate, as
ecadm-guichet speaks them, and the helpdesk's set-email and
resend-activation through ecadmctl.

Each test imports a school of its own, notifies it on paper and works on
its guardians; each uses addresses of its own, so the per-address limits
of one test do not reach another."""

import json
import re
import unittest

import harness
from harness import line, uai
import test_protocol_doc

LOCK_RE = r"^Trop de tentatives : réessayez après \d\d:\d\d\.$"


class GuardianCase(unittest.TestCase):
    number = 0

    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()

    def setUp(self):
        GuardianCase.number += 1
        self.n = GuardianCase.number
        self.conns = []

    def tearDown(self):
        for c in self.conns:
            c.close()

    def addr(self, k=0):
        return "198.51.100.%d" % (self.n * 10 + k)

    def guichet(self):
        c = self.s.connect(cert="guichet")
        self.assertEqual(c.hello()["result"]["peer"], "guichet")
        self.conns.append(c)
        return c

    def school(self, email=""):
        """A new school with one guardian (one child born 15/03/2018),
        notified on paper; returns (director, login, password)."""
        S = uai(3340000 + self.n)
        p = "GD%d" % self.n
        self.s.import_rows([
            line(S, p + "P1", "PETIT", "Léa", p + "G1", "PETIT", "Anne",
                 born="15/03/2018", classe="CE1", niveau="CE1",
                 email=email)], "g%d.csv" % self.n)
        director = "dir.g%d" % self.n
        self.s.add_staff(director, "directeur", [S], "Direction G%d" %
                         self.n)
        res = self.s.ctl("notify", "--paper", "--out", "%s/g%d.pdf" % (
            self.s.dir, self.n), "--all", user=director, json=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        row = next(r for r in self.s.ctl_json("search", user=director)
                   if r["login"])
        return director, row["login"], row["password"]

    def outbox(self, login, kind):
        """The mails of that kind for the account, oldest first, as
        delivered to the Maildir: (recipient, {token, login})."""
        return self.s.mails(login, kind)

    def state(self, login):
        return self.s.psql("select state from accounts where login = '%s'"
                           % login)[1]

    def activate(self, c, login, password, email="parent@example.org",
                 chosen="Choisi2024"):
        r = c.call("guardian-login", login=login, password=password,
                   addr=self.addr())
        self.assertTrue(r["ok"], r)
        r = c.call("guardian-activate", session=r["result"]["session"],
                   new_password=chosen, confirmation=chosen, email=email,
                   birth_date="15/03/2018", addr=self.addr())
        self.assertTrue(r["ok"], r)
        return self.outbox(login, "activation")[-1][1]["token"]


class TestJourney(GuardianCase):
    def test_first_connection_to_active(self):
        d, login, password = self.school(email="onde.petit@example.org")
        c = self.guichet()
        r = c.call("guardian-login", login=login.upper(), password=password,
                   addr=self.addr())
        self.assertTrue(r["ok"], r)
        res = r["result"]
        self.assertEqual(res["stage"], "activation")
        self.assertEqual(res["login"], login)
        self.assertRegex(res["session"], "^[0-9a-f]{64}$")
        self.assertEqual(res["child"]["first_name"], "Léa")
        self.assertEqual(res["child"]["name"], "PETIT")
        self.assertEqual(res["child"]["class"], "CE1")
        self.assertEqual(res["email"], "onde.petit@example.org")
        session = res["session"]

        # Bad fields, each named.
        r = c.call("guardian-activate", session=session,
                   new_password="court", confirmation="autre",
                   email="pas-une-adresse", birth_date="31/02/2018",
                   addr=self.addr())
        self.assertEqual(r["error"]["code"], "E_INVALID", r)
        fields = {x["field"] for x in r["error"]["details"]}
        self.assertEqual(fields, {"new_password", "email", "birth_date"})
        r = c.call("guardian-activate", session=session,
                   new_password="Choisi2024", confirmation="Choisi2025",
                   email="parent@example.org", birth_date="15/03/2018",
                   addr=self.addr())
        self.assertEqual([x["field"] for x in r["error"]["details"]],
                         ["confirmation"])

        # A wrong birth date counts and says so.
        r = c.call("guardian-activate", session=session,
                   new_password="Choisi2024", confirmation="Choisi2024",
                   email="parent@example.org", birth_date="16/03/2018",
                   addr=self.addr())
        self.assertEqual(r["error"]["code"], "E_AUTH")
        self.assertIn("Date de naissance incorrecte", r["error"]["message"])
        self.assertIn("essai", r["error"]["message"])
        self.assertEqual(self.state(login), "notifie")

        r = c.call("guardian-activate", session=session,
                   new_password="Choisi2024", confirmation="Choisi2024",
                   email="parent@example.org", birth_date="15/03/2018",
                   addr=self.addr())
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["result"], {"state": "attente",
                                       "email": "parent@example.org"})
        self.assertEqual(self.state(login), "attente")
        # The provisional password is gone, the chosen one is scrypt.
        _, row, _ = self.s.psql(
            "select (provisional is null)::text || '|' || password_hash"
            " || '|' || email || '|' || (first_login_at is not null)::text"
            " from accounts where login = '%s'" % login)
        wiped, phc, email, first = row.split("|")
        self.assertEqual(wiped, "true")
        self.assertTrue(phc.startswith("$scrypt$"), phc)
        self.assertEqual(email, "parent@example.org")
        self.assertEqual(first, "true")
        # The session is spent.
        r = c.call("guardian-activate", session=session,
                   new_password="Choisi2024", confirmation="Choisi2024",
                   email="parent@example.org", birth_date="15/03/2018",
                   addr=self.addr())
        self.assertEqual(r["error"]["code"], "E_AUTH")

        # The mail, with the token only it holds (the database has its
        # hash).
        mails = self.outbox(login, "activation")
        self.assertEqual(len(mails), 1)
        recipient, vars = mails[0]
        self.assertEqual(recipient, "parent@example.org")
        self.assertEqual(vars["login"], login)
        token = vars["token"]
        self.assertRegex(token, "^[0-9a-f]{64}$")
        _, n, _ = self.s.psql("select count(*) from guardian_tokens where"
                              " token_hash = sha256('%s'::bytea)" % token)
        self.assertEqual(n, "1")

        r = c.call("guardian-confirm", token=token)
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["result"], {"state": "active", "login": login})
        self.assertEqual(self.state(login), "active")
        r = c.call("guardian-confirm", token=token)
        self.assertEqual(r["error"]["code"], "E_NOT_FOUND")
        self.assertEqual(r["error"]["message"],
                         "Ce lien n'est pas valable ou a déjà servi.")

        row = self.s.ctl_json("search", "--query", login, user=d)[0]
        self.assertEqual(row["state"], "active")
        self.assertEqual(row["password"], "******")
        show = self.s.ctl_json("show", login, user=d)
        steps = [(e["action"], e.get("from"), e.get("to"), e["channel"])
                 for e in show["events"] if e["channel"] == "guichet"]
        self.assertIn(("activate", "notifie", "attente", "guichet"), steps)
        self.assertIn(("activation_confirmed", "attente", "active",
                       "guichet"), steps)
        self.assertIn("birth_date_failed", [s[0] for s in steps])
        journal = self.s.ctl_json("journal", user=d)
        self.assertIn("activation_confirmed", [e["action"] for e in journal
                                               if e.get("login") == login])

        # The chosen password opens the account page.
        r = c.call("guardian-login", login=login, password="Choisi2024",
                   addr=self.addr())
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["result"]["stage"], "account")
        session = r["result"]["session"]
        # Another guichet shares the session.
        r = self.guichet().call("guardian-account", session=session)
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["result"]["login"], login)
        self.assertEqual(r["result"]["email"], "parent@example.org")
        self.assertEqual(r["result"]["children"][0]["name"], "PETIT Léa")
        # The provisional password no longer opens anything.
        r = c.call("guardian-login", login=login, password=password,
                   addr=self.addr(1))
        self.assertEqual(r["error"]["code"], "E_AUTH")
        self.assertTrue(c.call("guardian-logout", session=session)["ok"])
        r = c.call("guardian-account", session=session)
        self.assertEqual(r["error"]["code"], "E_AUTH")

    def test_expired_and_resent_link(self):
        d, login, password = self.school()
        c = self.guichet()
        token = self.activate(c, login, password)
        self.s.psql("update guardian_tokens set expires_at = now() -"
                    " interval '1 minute' where token_hash ="
                    " sha256('%s'::bytea)" % token)
        r = c.call("guardian-confirm", token=token)
        self.assertEqual(r["error"]["code"], "E_INVALID", r)
        self.assertIn("expiré", r["error"]["message"])
        self.assertEqual(r["error"]["details"],
                         [{"field": "token", "text": "expired"}])
        self.assertEqual(self.state(login), "attente")
        # A new link; the guichet answers the same for anyone.
        for who in (login, "x.inconnu99"):
            r = c.call("guardian-resend", login=who, addr=self.addr())
            self.assertEqual(r, {"id": r["id"], "ok": True, "result": {}})
        mails = self.outbox(login, "activation")
        self.assertEqual(len(mails), 2)
        fresh = mails[-1][1]["token"]
        self.assertNotEqual(fresh, token)
        self.assertEqual(c.call("guardian-confirm", token=token)["error"][
            "code"], "E_NOT_FOUND")
        self.assertTrue(c.call("guardian-confirm", token=fresh)["ok"])
        self.assertEqual(self.state(login), "active")

    def test_unknown_link(self):
        c = self.guichet()
        r = c.call("guardian-confirm", token="00" * 32)
        self.assertEqual(r["error"]["code"], "E_NOT_FOUND")


class TestLimits(GuardianCase):
    def test_per_login_lock_says_when(self):
        d, login, password = self.school()
        c = self.guichet()
        seen = []
        for i in range(5):
            r = c.call("guardian-login", login=login, password="Mauvais%d" %
                       i, addr=self.addr(i))
            seen.append(r["error"]["message"])
        self.assertEqual(set(seen[:4]), {"Identifiant ou mot de passe "
                                         "incorrect."})
        self.assertRegex(seen[4], LOCK_RE)
        # Even the right password waits for the lock to pass.
        r = c.call("guardian-login", login=login, password=password,
                   addr=self.addr(9))
        self.assertEqual(r["error"]["code"], "E_AUTH")
        self.assertRegex(r["error"]["message"], LOCK_RE)
        # An unknown login locks the same way: a lock says nothing of
        # which logins exist.
        for i in range(5):
            r = c.call("guardian-login", login="z.personne%d" % self.n,
                       password="Mauvais1", addr=self.addr(i))
        self.assertRegex(r["error"]["message"], LOCK_RE)
        # The lock passes.
        self.s.psql("update guardian_throttle set locked_until = now()"
                    " where key = 'login:%s'" % login)
        r = c.call("guardian-login", login=login, password=password,
                   addr=self.addr(8))
        self.assertTrue(r["ok"], r)

    def test_birth_dates_count_against_the_login(self):
        d, login, password = self.school()
        c = self.guichet()
        r = c.call("guardian-login", login=login, password=password,
                   addr=self.addr())
        session = r["result"]["session"]
        for i in range(5):
            r = c.call("guardian-activate", session=session,
                       new_password="Choisi2024", confirmation="Choisi2024",
                       email="p@example.org", birth_date="0%d/01/2017" %
                       (i + 1), addr=self.addr())
        self.assertRegex(r["error"]["message"], LOCK_RE)
        # The session ended with the lock.
        r = c.call("guardian-activate", session=session,
                   new_password="Choisi2024", confirmation="Choisi2024",
                   email="p@example.org", birth_date="15/03/2018",
                   addr=self.addr())
        self.assertEqual(r["error"]["code"], "E_AUTH")
        self.assertEqual(self.state(login), "notifie")

    def test_per_address_lock(self):
        d, login, password = self.school()
        c = self.guichet()
        for i in range(20):
            r = c.call("guardian-login", login="y.inconnu%d" % i,
                       password="Mauvais1", addr=self.addr())
        self.assertRegex(r["error"]["message"], LOCK_RE)
        r = c.call("guardian-login", login=login, password=password,
                   addr=self.addr())
        self.assertRegex(r["error"]["message"], LOCK_RE)
        # Another address is not locked.
        r = c.call("guardian-login", login=login, password=password,
                   addr=self.addr(1))
        self.assertTrue(r["ok"], r)


class TestForgotten(GuardianCase):
    def active(self):
        d, login, password = self.school()
        c = self.guichet()
        token = self.activate(c, login, password,
                              email="famille%d@example.org" % self.n)
        self.assertTrue(c.call("guardian-confirm", token=token)["ok"])
        return c, login

    def test_forgot_login_and_password(self):
        c, login = self.active()
        email = "famille%d@example.org" % self.n
        for e in (email.upper(), "inconnu@example.org"):
            r = c.call("guardian-forgot-login", email=e, addr=self.addr())
            self.assertEqual(r["result"], {}, r)
        mails = self.outbox(login, "forgot_login")
        self.assertEqual(mails, [(email, {"login": login})])

        for who, e in ((login, "inconnu@example.org"),
                       ("x.inconnu1", email), (login, email)):
            r = c.call("guardian-forgot-password", login=who, email=e,
                       addr=self.addr())
            self.assertEqual(r["result"], {}, r)
        mails = self.outbox(login, "forgot_password")
        self.assertEqual(len(mails), 1)
        token = mails[0][1]["token"]
        r = c.call("guardian-reset-password", token=token,
                   new_password="Nouveau77", confirmation="Nouveau7")
        self.assertEqual(r["error"]["code"], "E_INVALID")
        r = c.call("guardian-login", login=login, password="Choisi2024",
                   addr=self.addr())
        session = r["result"]["session"]
        r = c.call("guardian-reset-password", token=token,
                   new_password="Nouveau77", confirmation="Nouveau77")
        self.assertEqual(r["result"], {"login": login}, r)
        # Sessions opened with the old password end.
        self.assertEqual(c.call("guardian-account", session=session)[
            "error"]["code"], "E_AUTH")
        self.assertEqual(c.call("guardian-reset-password", token=token,
                                new_password="Nouveau88",
                                confirmation="Nouveau88")["error"]["code"],
                         "E_NOT_FOUND")
        r = c.call("guardian-login", login=login, password="Nouveau77",
                   addr=self.addr())
        self.assertEqual(r["result"]["stage"], "account", r)

    def test_change_password_and_email(self):
        c, login = self.active()
        r = c.call("guardian-login", login=login, password="Choisi2024",
                   addr=self.addr())
        session = r["result"]["session"]
        r = c.call("guardian-password", session=session, current="Faux2024",
                   new_password="Autre2025", confirmation="Autre2025")
        self.assertEqual(r["error"]["code"], "E_AUTH")
        r = c.call("guardian-password", session=session,
                   current="Choisi2024", new_password="Autre2025",
                   confirmation="Autre2025")
        self.assertTrue(r["ok"], r)
        r = c.call("guardian-email", session=session,
                   email="nouvelle%d@example.org" % self.n)
        self.assertTrue(r["ok"], r)
        recipient, vars = self.outbox(login, "email_change")[-1]
        self.assertEqual(recipient, "nouvelle%d@example.org" % self.n)
        self.assertEqual(vars["login"], login)
        r = c.call("guardian-email-confirm", token=vars["token"])
        self.assertEqual(r["result"], {"login": login, "email": recipient})
        _, email, _ = self.s.psql("select email from accounts where login"
                                  " = '%s'" % login)
        self.assertEqual(email, recipient)
        r = c.call("guardian-login", login=login, password="Autre2025",
                   addr=self.addr())
        self.assertTrue(r["ok"], r)


class TestHelpdesk(GuardianCase):
    def test_set_email_kills_the_old_link(self):
        d, login, password = self.school()
        c = self.guichet()
        old = self.activate(c, login, password, email="faute@exemple.org")
        res = self.s.ctl("set-email", login, "juste%d@example.org" % self.n,
                         user="help")
        self.assertEqual(res.returncode, 0, res.stderr)
        recipient, vars = self.outbox(login, "activation")[-1]
        self.assertEqual(recipient, "juste%d@example.org" % self.n)
        self.assertEqual(c.call("guardian-confirm", token=old)["error"][
            "code"], "E_NOT_FOUND")
        # resend-activation: a newer link again.
        res = self.s.ctl("resend-activation", login, user=d)
        self.assertEqual(res.returncode, 0, res.stderr)
        newest = self.outbox(login, "activation")[-1][1]["token"]
        self.assertEqual(c.call("guardian-confirm", token=vars["token"])[
            "error"]["code"], "E_NOT_FOUND")
        self.assertTrue(c.call("guardian-confirm", token=newest)["ok"])
        # Only accounts waiting for their link have one to resend.
        res = self.s.ctl("resend-activation", login, user=d)
        self.assertEqual(res.returncode, 1)
        self.assertIn("E_BAD_TRANSITION", res.stderr)
        show = self.s.ctl_json("show", login, user=d)
        self.assertIn("set_email", [e["action"] for e in show["events"]])
        self.assertIn("resend_activation", [e["action"] for e in
                                            show["events"]])

    def test_set_email_refusals(self):
        d, login, password = self.school()
        res = self.s.ctl("set-email", login, "pas une adresse", user=d)
        self.assertEqual(res.returncode, 1)
        self.assertIn("E_INVALID", res.stderr)
        res = self.s.ctl("set-email", "x.inconnu1", "a@example.org",
                         user="help")
        self.assertIn("E_NOT_FOUND", res.stderr)
        res = self.s.ctl("set-email", login, "a@example.org", user="dir.a")
        self.assertIn("E_FORBIDDEN", res.stderr)
        res = self.s.ctl("set-email", login, "a@example.org", user="admin")
        self.assertIn("E_FORBIDDEN", res.stderr)
        res = self.s.ctl("set-email", login, "ok@example.org", user=d)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(self.s.ctl_json("show", login, user=d)["email"],
                         "ok@example.org")


class TestPeers(GuardianCase):
    def test_guichet_is_refused_every_staff_operation(self):
        c = self.guichet()
        for name, roles, peers, flags in test_protocol_doc.operations():
            # An upload without its payload is a protocol violation,
            # answered before the peer is looked at.
            if name == "hello" or name.startswith("guardian-") or \
                    "upload" in flags:
                continue
            r = c.call(name, login="dir.a", password="x")
            self.assertEqual(r["error"]["code"], "E_FORBIDDEN", name)
            self.assertEqual(r["error"]["message"], "Opération non "
                             "autorisée pour ce type de client.", name)

    def test_staff_peers_are_refused_guardian_operations(self):
        for cert in (None, "sshd"):
            c = self.s.connect(cert=cert)
            self.conns.append(c)
            c.hello()
            if cert is None:
                self.assertTrue(c.login("dir.a", self.s.users["dir.a"])["ok"])
            for name, roles, peers, flags in test_protocol_doc.operations():
                if not name.startswith("guardian-"):
                    continue
                self.assertEqual(peers, ["guichet"], name)
                r = c.call(name, login="x", password="y", addr="1.2.3.4",
                           token="00", session="00")
                self.assertEqual(r["error"]["code"], "E_FORBIDDEN", name)


if __name__ == "__main__":
    unittest.main()
