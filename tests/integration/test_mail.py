"""Mail to guardians (DESIGN.md §4, §13): notify --email queues one
message per account in the outbox, and ecadmd's mailer delivers it to a
Maildir, or to an SMTP relay (a real aiosmtpd server started here), with
retries while the relay is down and the account marked when the relay
refuses for good."""

import email
import email.policy
import glob
import os
import ssl
import threading
import time
import unittest

import harness
from harness import line, uai

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult
except ImportError:		# tools/deps.sh installs python3-aiosmtpd
    Controller = None


def family(S, p, with_mail=True):
    """Two guardians with an address in ONDE, one without."""
    return [
        line(S, p + "P1", "MARTIN", "Léa", p + "G1", "MARTIN", "Hélène",
             email=(p + ".helene@example.fr").lower() if with_mail else ""),
        line(S, p + "P2", "DURAND", "Noé", p + "G2", "DURAND", "Zoé",
             email=(p + ".zoe@example.fr").lower() if with_mail else ""),
        line(S, p + "P3", "PETIT", "Jean", p + "G3", "PETIT", "Paul"),
    ]


def wait_for(what, check, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


class MailCase(unittest.TestCase):
    number = 0
    s = None

    def school(self, rows_for):
        MailCase.number += 1
        n = MailCase.number
        S = uai(3340000 + n)
        self.s.import_rows(rows_for(S, "M%d" % n), "m%d.csv" % n)
        director = "dir.m%d" % n
        self.s.add_staff(director, "directeur", [S], "Direction M%d" % n)
        return S, director

    def notify_email(self, director, *selection):
        res = self.s.ctl("notify", "--email", *selection, user=director,
                         json=True)
        self.assertEqual(res.returncode, 0, res.stderr)
        return __import__("json").loads(res.stdout)

    def outbox(self, login):
        """(attempts, sent, failed, vars) of the account's last message."""
        _, out, _ = self.s.psql(
            "select o.attempts || '|' || (o.sent_at is not null) || '|' ||"
            " (o.failed_at is not null) || '|' || o.vars::text"
            " from outbox o join accounts a on a.id = o.account_id"
            " where a.login = '%s' order by o.id desc limit 1" % login)
        if not out.strip():
            return None
        a, sent, failed, v = out.strip().split("|", 3)
        return int(a), sent == "true", failed == "true", v

    def search_row(self, director, login):
        rows = self.s.ctl_json("search", user=director)
        return next(r for r in rows if r.get("login") == login)


class TestMaildir(MailCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()

    def maildir_message(self, address):
        def find():
            for path in glob.glob(os.path.join(self.s.maildir, "new", "*")):
                with open(path, "rb") as f:
                    msg = email.message_from_binary_file(
                        f, policy=email.policy.default)
                if address in str(msg["To"]):
                    return msg
            return None
        return wait_for("a message to " + address, find)

    def test_notify_by_email(self):
        S, director = self.school(family)
        res = self.notify_email(director, "--all")
        self.assertEqual(len(res["notified"]), 2, res)
        self.assertEqual([x["reason"] for x in res["skipped"]],
                         ["pas d'adresse électronique"], res)
        self.assertEqual(res["pages"], 0)
        self.assertIsNone(res.get("file"))
        rows = self.s.ctl_json("search", user=director)
        for row in rows:
            if row["guardian"].startswith("PETIT"):
                self.assertEqual(row["state"], "precree", row)
                continue
            self.assertEqual(row["state"], "notifie", row)
            msg = self.maildir_message(row["email"])
            self.assertEqual(msg.get_content_type(), "multipart/alternative")
            self.assertEqual(str(msg["Subject"]), "Vos identifiants pour "
                             "les services en ligne de l'école")
            self.assertIsNotNone(msg["Date"])
            self.assertIsNotNone(msg["Message-ID"])
            self.assertIsNotNone(msg["Date"].datetime)
            plain = msg.get_body(("plain",)).get_content()
            html = msg.get_body(("html",)).get_content()
            for body in (plain, html):
                self.assertIn(row["login"], body)
                self.assertIn(row["password"], body)
                self.assertIn("École " + S, body)
            self.assertIn("Éducation nationale", plain)
            # The outbox keeps no secret once the message is gone.
            attempts, sent, failed, v = self.outbox(row["login"])
            self.assertEqual((attempts, sent, failed, v),
                             (1, True, False, "{}"))
            self.assertFalse(row["mail_failed"])
            # The card lists the mail and the event says email.
            card = self.s.ctl_json("show", row["login"], user=director)
            self.assertEqual(card["mails"][0]["kind"], "notification")
            self.assertEqual(card["mails"][0]["status"], "sent")
            self.assertEqual(card["mails"][0]["to"], row["email"])
            self.assertIn("notify_email",
                          [e["action"] for e in card["events"]])
        # No password was ever written to the outbox.
        _, out, _ = self.s.psql("select count(*) from outbox where"
                                " vars::text ~* 'password|mot'")
        self.assertEqual(out.strip(), "0")

    def test_without_addresses_nothing_is_queued(self):
        S, director = self.school(lambda S, p: family(S, p, False))
        res = self.notify_email(director, "--all")
        self.assertEqual(res["notified"], [])
        self.assertEqual(len(res["skipped"]), 3, res)
        self.assertTrue(all(x["reason"] == "pas d'adresse électronique"
                            for x in res["skipped"]), res)
        rows = self.s.ctl_json("search", user=director)
        self.assertEqual({r["state"] for r in rows}, {"precree"})

    def test_usage(self):
        S, director = self.school(family)
        for args in (["--email", "--out", "x.pdf", "--all"],
                     ["--email", "--paper", "--all"], ["--all"]):
            res = self.s.ctl("notify", *args, user=director)
            self.assertEqual(res.returncode, 2, (args, res.stderr))


class Relay:
    """An aiosmtpd server on a port, refusing refuse-* recipients."""

    def __init__(self, port):
        self.port = port
        self.messages = []
        self.lock = threading.Lock()
        self.controller = None

    async def handle_RCPT(self, server, session, envelope, address,
                          options):
        if address.startswith("refuse"):
            return "550 5.1.1 Destinataire inconnu"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.rcpt_tos, envelope.content))
        return "250 OK"

    def start(self):
        self.controller = Controller(self, hostname="127.0.0.1",
                                     port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()

    def to(self, address):
        with self.lock:
            for rcpt, content in self.messages:
                if address in rcpt:
                    return email.message_from_bytes(
                        content, policy=email.policy.default)
        return None


@unittest.skipIf(Controller is None, "aiosmtpd is not installed")
class TestSmtp(MailCase):
    """A stack of its own whose daemon sends through a relay that starts
    down: its messages wait in the outbox, then go."""

    @classmethod
    def setUpClass(cls):
        cls.relay = Relay(harness.free_port())
        cls.s = harness.Stack()
        cls.s.mail_ini = ("smtp_url = smtp://127.0.0.1:%d\n"
                          "retry_base = 1\nmax_attempts = 30\n"
                          % cls.relay.port)
        try:
            cls.s.setup(demo=False)
        except Exception:
            cls.s.teardown()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.relay.stop()
        cls.s.teardown()

    def test_1_relay_down_then_up(self):
        S, director = self.school(family)
        res = self.notify_email(director, "--all")
        self.assertEqual(len(res["notified"]), 2, res)
        login = res["notified"][0]["login"]
        # The relay is down: attempts grow, nothing is lost.
        wait_for("two attempts", lambda: (self.outbox(login) or (0,))[0]
                 >= 2)
        attempts, sent, failed, v = self.outbox(login)
        self.assertFalse(sent or failed)
        self.relay.start()
        row = self.search_row(director, login)
        msg = wait_for("the relay to receive it",
                       lambda: self.relay.to(row["email"]), timeout=60)
        self.assertEqual(msg.get_content_type(), "multipart/alternative")
        self.assertIn(row["password"],
                      msg.get_body(("plain",)).get_content())
        wait_for("the message marked sent",
                 lambda: self.outbox(login)[1])
        self.assertGreater(self.outbox(login)[0], 2)

    def test_2_refused_for_good(self):
        if self.relay.controller is None:
            self.relay.start()

        def rows(S, p):
            return [line(S, p + "P1", "REFUS", "Léa", p + "G1", "REFUS",
                         "Anne", email="refuse-%s@example.fr" % p.lower())]
        S, director = self.school(rows)
        res = self.notify_email(director, "--all")
        login = res["notified"][0]["login"]
        wait_for("the message given up", lambda: self.outbox(login)[2])
        attempts, sent, failed, v = self.outbox(login)
        self.assertEqual((attempts, sent, v), (1, False, "{}"))
        self.assertTrue(self.search_row(director, login)["mail_failed"])
        card = self.s.ctl_json("show", login, user=director)
        self.assertEqual(card["mails"][0]["status"], "failed")
        self.assertIn("550", card["mails"][0]["error"])


if __name__ == "__main__":
    unittest.main()


class SecureRelay(Relay):
    """A relay that takes mail only after STARTTLS and a login, and says
    how each message came."""

    def __init__(self, port, certificate, key, login, password):
        super().__init__(port)
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(certificate, key)
        self.login, self.password = login, password
        self.sessions = []

    def authenticate(self, server, session, envelope, mechanism, data):
        ok = (getattr(data, "login", None) == self.login.encode() and
              getattr(data, "password", None) == self.password.encode())
        return AuthResult(success=ok)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.sessions.append((session.ssl is not None,
                                  session.authenticated))
        return await super().handle_DATA(server, session, envelope)

    def start(self):
        self.controller = Controller(
            self, hostname="127.0.0.1", port=self.port,
            tls_context=self.context, require_starttls=True,
            authenticator=self.authenticate, auth_require_tls=True)
        self.controller.start()


@unittest.skipIf(Controller is None, "aiosmtpd is not installed")
class TestSmtpStartTls(MailCase):
    """smtp_starttls, smtp_ca, smtp_user and smtp_password_file against a
    relay that requires STARTTLS then a login."""

    @classmethod
    def setUpClass(cls):
        cls.s = harness.Stack()
        port = harness.free_port()
        secret = os.path.join(cls.s.dir, "relay.password")
        with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600),
                  "w") as f:
            f.write("Relais-2026\n")
        cls.s.mail_ini = ("smtp_url = smtp://127.0.0.1:%d\n"
                          "smtp_starttls = yes\nsmtp_ca = %s\n"
                          "smtp_user = ecadm\nsmtp_password_file = %s\n"
                          "retry_base = 1\n"
                          % (port, os.path.join(cls.s.tls, "ca.crt"), secret))
        try:
            cls.s.setup(demo=False)
        except Exception:
            cls.s.teardown()
            raise
        # The stack's certificate (localhost, 127.0.0.1) serves the relay.
        cls.relay = SecureRelay(port, os.path.join(cls.s.tls, "server.crt"),
                                os.path.join(cls.s.tls, "server.key"),
                                "ecadm", "Relais-2026")
        cls.relay.start()

    @classmethod
    def tearDownClass(cls):
        cls.relay.stop()
        cls.s.teardown()

    def test_sent_over_tls_after_login(self):
        S, director = self.school(family)
        res = self.notify_email(director, "--all")
        login = res["notified"][0]["login"]
        row = self.search_row(director, login)
        msg = wait_for("the relay to receive it",
                       lambda: self.relay.to(row["email"]), timeout=60)
        self.assertIn(row["password"],
                      msg.get_body(("plain",)).get_content())
        with self.relay.lock:
            self.assertTrue(self.relay.sessions)
            self.assertTrue(all(tls and auth for tls, auth in
                                self.relay.sessions), self.relay.sessions)
