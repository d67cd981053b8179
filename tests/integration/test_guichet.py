"""ecadm-guichet over HTTP against the test stack's ecadmd: the headers of
every page, CSRF refusals, cookie flags, labelled fields, surviving an
ecadmd restart, and a parent's whole first connection (paper letter, login,
activation with a wrong then the right birth date, the mailed link)."""

import html.parser
import http.client
import os
import re
import socket
import ssl
import time
import unittest
import urllib.parse

import harness

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


class Browser:
    """Just enough of a browser: a cookie jar and the last page's token."""

    def __init__(self, port):
        self.port = port
        self.cookies = {}

    def request(self, method, path, fields=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields)
            h["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv
                                    for kv in self.cookies.items())
        conn.request(method, path, body=body, headers=h)
        res = conn.getresponse()
        text = res.read().decode()
        conn.close()
        for value in res.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            val = rest.split(";")[0]
            if "Max-Age=0" in value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = val
        res.text = text
        return res

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, fields, token=True, **kw):
        """POST with the CSRF token of the last form of the page at path's
        form (token=True), a given one, or none (None)."""
        fields = dict(fields)
        if token is True:
            fields["csrf"] = self.token
        elif token is not None:
            fields["csrf"] = token
        res = self.request("POST", path, fields=fields, **kw)
        self.remember_token(res)
        return res

    def open(self, path):
        res = self.get(path)
        self.remember_token(res)
        return res

    def remember_token(self, res):
        m = re.findall(r'name="csrf" value="([0-9a-f]+)"', res.text)
        if m:
            self.token = m[0]


class PageChecker(html.parser.HTMLParser):
    """The accessibility rules of the pages: lang, one <h1>, a label for
    every visible input, aria-describedby naming ids that exist."""

    def __init__(self):
        super().__init__()
        self.lang = None
        self.h1 = 0
        self.ids = set()
        self.labels = set()
        self.inputs = []
        self.described = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "h1":
            self.h1 += 1
        elif tag == "label":
            self.labels.add(a.get("for"))
        elif tag == "input" and a.get("type") != "hidden":
            self.inputs.append(a)
        if "aria-describedby" in a:
            self.described += a["aria-describedby"].split()

    def problems(self):
        out = []
        if self.lang != "fr":
            out.append("lang is %r" % self.lang)
        if self.h1 != 1:
            out.append("%d <h1>" % self.h1)
        for i in self.inputs:
            if i.get("id") not in self.labels:
                out.append("input %s without a label" % i.get("name"))
        for d in self.described:
            if d not in self.ids:
                out.append("aria-describedby names missing id %s" % d)
        return out


def check_page(test, text):
    p = PageChecker()
    p.feed(text)
    test.assertEqual(p.problems(), [], text)
    return p


class TestGuichet(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        cls.g = harness.Guichet(cls.s).start()
        cls.others = []

    @classmethod
    def tearDownClass(cls):
        for d in cls.others + [cls.g]:
            d.stop()
        for d in cls.others + [cls.g]:
            report = harness.sanitizer_report(d.read_log())
            if report:
                raise AssertionError("sanitizer report:\n" + report)

    def browser(self, g=None):
        return Browser((g or self.g).port)

    def assert_security_headers(self, res, path, cacheable=False):
        for name, value in SECURITY_HEADERS.items():
            self.assertEqual(res.getheader(name), value,
                             "%s on %s" % (name, path))
        self.assertEqual(res.getheader("Cache-Control"),
                         "public, max-age=3600" if cacheable else "no-store",
                         path)

    def test_headers_on_every_page(self):
        b = self.browser()
        for path, status in [("/", 200), ("/identifiant-oublie", 200),
                             ("/mot-de-passe-oublie", 200),
                             ("/mot-de-passe?jeton=abc", 200),
                             ("/compte", 303), ("/connexion", 303),
                             ("/introuvable", 404)]:
            res = b.get(path)
            self.assertEqual(res.status, status, path)
            self.assert_security_headers(res, path)
            if status == 200:
                self.assertEqual(res.getheader("Content-Type"),
                                 "text/html; charset=utf-8")
        res = b.get("/style.css")
        self.assertEqual(res.status, 200)
        self.assertTrue(res.getheader("Content-Type").startswith("text/css"))
        self.assert_security_headers(res, "/style.css", cacheable=True)
        res = b.request("PUT", "/")
        self.assertEqual(res.status, 405)
        self.assert_security_headers(res, "PUT /")
        res = b.post("/connexion", {"identifiant": "x"}, token=None)
        self.assertEqual(res.status, 403)
        self.assert_security_headers(res, "POST /connexion refused")

    def test_pages_are_labelled(self):
        b = self.browser()
        for path in ("/", "/identifiant-oublie", "/mot-de-passe-oublie",
                     "/mot-de-passe?jeton=abc", "/confirmer"):
            res = b.get(path)
            p = check_page(self, res.text)
            if path != "/confirmer":
                self.assertTrue(p.inputs, path)
        self.assertIn('href="/identifiant-oublie"', b.get("/").text)
        self.assertIn('href="/mot-de-passe-oublie"', b.get("/").text)

    def test_csrf_refusals(self):
        b = self.browser()
        b.open("/")
        self.assertIn("guichet_pre", b.cookies)
        fields = {"identifiant": "personne", "mot_de_passe": "x"}
        self.assertEqual(b.post("/connexion", fields, token=None).status,
                         403)
        self.assertEqual(b.post("/connexion", fields, token="0" * 64).status,
                         403)
        # A token of another browser's cookie is no good here.
        other = self.browser()
        other.open("/")
        self.assertEqual(b.post("/connexion", fields,
                                token=other.token).status, 403)
        # Nor a token without its cookie.
        c = self.browser()
        self.assertEqual(c.post("/connexion", fields,
                                token=b.token).status, 403)
        b.open("/")
        res = b.post("/connexion", fields)
        self.assertNotEqual(res.status, 403, res.text)

    def test_token_valid_on_another_instance(self):
        """No state: an instance with the same key file takes the form of
        another."""
        twin = harness.Guichet(self.s, name="guichet-twin")
        with open(twin.config) as f:
            text = f.read()
        with open(twin.config, "w") as f:
            f.write(text.replace(twin.key_file, self.g.key_file))
        twin.start()
        self.others.append(twin)
        b = self.browser()
        b.open("/identifiant-oublie")
        b.port = twin.port
        res = b.post("/identifiant-oublie", {"courriel": "x@example.fr"})
        self.assertNotEqual(res.status, 403, res.text)
        self.assertEqual(os.stat(self.g.key_file).st_mode & 0o777, 0o600)

    def test_cookie_flags(self):
        b = self.browser()
        res = b.get("/")
        cookie = res.getheader("Set-Cookie")
        self.assertRegex(cookie, r"^guichet_pre=[0-9a-f]{32}; ")
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        self.assertNotIn("Secure", cookie)	# plain HTTP, no proxy
        # Behind the configured proxy (TLS there), cookies are Secure.
        proxied = harness.Guichet(self.s, name="guichet-proxied",
                                  extra="trusted_proxy = 127.0.0.1\n").start()
        self.others.append(proxied)
        res = self.browser(proxied).get(
            "/", headers={"X-Forwarded-For": "203.0.113.9"})
        cookie = res.getheader("Set-Cookie")
        self.assertIn("; Secure", cookie)
        self.assertIn("HttpOnly", cookie)
        self.assertIn("from 203.0.113.9", proxied.read_log())

    def test_connections_per_address(self):
        """50 connections at once from one address, unless that address is
        the proxy every parent comes through."""
        refused = "Server reached connection limit"

        def still_open(sock):
            try:
                return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) \
                    != b""
            except BlockingIOError:
                return True
            except OSError:
                return False

        def settled(g, n, limit):
            """n idle connections, once the guichet has taken or refused
            each of them (its threads accept in parallel, so which ones
            it refuses is not fixed): (the sockets, how many it kept)."""
            before = g.read_log().count(refused)
            idle = [socket.create_connection(("127.0.0.1", g.port))
                    for _ in range(n)]
            deadline = time.time() + 20
            while (g.read_log().count(refused) < before + max(n - limit, 0)
                   and time.time() < deadline):
                time.sleep(0.05)
            time.sleep(0.3)
            return idle, sum(still_open(sock) for sock in idle)

        def get(g):
            conn = http.client.HTTPConnection("127.0.0.1", g.port, timeout=5)
            try:
                conn.request("GET", "/")
                return conn.getresponse().status
            except (ConnectionError, http.client.HTTPException, OSError):
                return None
            finally:
                conn.close()

        limited = harness.Guichet(self.s, name="guichet-limited").start()
        self.others.append(limited)
        # A connection that has just closed (the harness's probe that the
        # guichet listens) may hold a place until a thread notices: then
        # fewer than 50 of ours are kept, and we try again.
        for attempt in range(5):
            idle, kept = settled(limited, 55, 50)
            try:
                self.assertLessEqual(kept, 50)
                if kept == 50:
                    self.assertIsNone(get(limited))
                    break
            finally:
                for sock in idle:
                    sock.close()
            time.sleep(1)
        self.assertEqual(kept, 50)
        proxied = harness.Guichet(self.s, name="guichet-many",
                                  extra="trusted_proxy = 127.0.0.1\n").start()
        self.others.append(proxied)
        idle, kept = settled(proxied, 60, 1000)
        try:
            self.assertEqual(kept, 60)
            self.assertEqual(get(proxied), 200)
        finally:
            for sock in idle:
                sock.close()
        self.assertNotIn(refused, proxied.read_log())

    def test_https_directly(self):
        g = harness.Guichet(self.s, name="guichet-https", extra=(
            "https_certificate = %s/server.crt\nhttps_key = %s/server.key\n"
            % (self.s.tls, self.s.tls))).start()
        self.others.append(g)
        ctx = ssl.create_default_context(
            cafile=os.path.join(self.s.tls, "ca.crt"))
        conn = http.client.HTTPSConnection("127.0.0.1", g.port, context=ctx,
                                           timeout=30)
        conn.request("GET", "/")
        res = conn.getresponse()
        text = res.read().decode()
        conn.close()
        self.assertEqual(res.status, 200)
        self.assertIn('action="/connexion"', text)
        self.assertIn("; Secure", res.getheader("Set-Cookie"))
        self.assertEqual(res.getheader("Strict-Transport-Security"),
                         "max-age=31536000")

    def test_bad_bodies(self):
        b = self.browser()
        b.open("/")
        res = b.post("/connexion", {"identifiant": "x" * 20000})
        self.assertEqual(res.status, 413)
        res = b.request("POST", "/connexion",
                        headers={"Content-Type":
                                 "application/x-www-form-urlencoded"})
        self.assertEqual(res.status, 403)
        conn = http.client.HTTPConnection("127.0.0.1", self.g.port)
        conn.request("POST", "/connexion", body="csrf=%zz",
                     headers={"Content-Type":
                              "application/x-www-form-urlencoded",
                              "Cookie": "guichet_pre=" +
                              b.cookies["guichet_pre"]})
        self.assertEqual(conn.getresponse().status, 400)
        conn.close()

    def test_survives_ecadmd_restart(self):
        d = harness.Daemon(self.s, "ecadmd-guichet", harness.free_port())
        d.start()
        # One thread, so one link to ecadmd: the request after the stop
        # meets the stale link, not a thread that never connected.
        g = harness.Guichet(self.s, name="guichet-restart",
                            server_port=d.port, threads=1).start()
        self.others += [g, d]
        b = self.browser(g)
        self.assertEqual(b.get("/confirmer?jeton=abc").status, 200)
        d.stop()
        self.assertEqual(b.get("/confirmer?jeton=abc").status, 503)
        d.start()
        res = b.get("/confirmer?jeton=abc")
        self.assertEqual(res.status, 200, res.text)
        self.assertIn("ecadmd link lost", g.read_log())

    def test_first_connection_journey(self):
        s = self.s
        # A school of its own: the demo school's states are other tests'
        # fixtures.
        S = harness.uai(3369001)
        s.import_rows([harness.line(S, "GJP1", "JOURNÉE", "Léonie",
                                    "GJG1", "JOURNÉE", "Anne",
                                    born="15/03/2018")], "gj.csv")
        s.add_staff("dir.gj", "directeur", [S], "Direction GJ")
        login = s.ctl_json("search", user="dir.gj")[0]["login"]
        self.assertTrue(login)
        out = os.path.join(s.dir, "guichet-notify.pdf")
        res = s.ctl("notify", "--paper", "--out", out, "--login", login,
                    user="dir.gj")
        self.assertEqual(res.returncode, 0, res.stderr)
        rows = [r for r in s.ctl_json("search", "--query", login,
                                      user="dir.gj")
                if r["login"] == login]
        password = rows[0]["password"]
        _, born, _ = s.psql(
            "select to_char(p.birth_date, 'DD/MM/YYYY'), p.first_name"
            " from accounts a join links l using (guardian_id)"
            " join pupils p on p.id = l.pupil_id where a.login = '%s'"
            % login)
        born, first_name = born.split("|")

        b = self.browser()
        b.open("/")
        res = b.post("/connexion", {"identifiant": login,
                                    "mot_de_passe": "faux" + password})
        self.assertIn("Identifiant ou mot de passe incorrect", res.text)
        res = b.post("/connexion", {"identifiant": login,
                                    "mot_de_passe": password})
        self.assertEqual(res.status, 200, res.text)
        self.assertIn("guichet_session", b.cookies)
        self.assertIn("date de naissance de " + first_name, res.text)
        check_page(self, res.text)
        form = {"enfant": "x", "nouveau_mot_de_passe": "Parent2024x",
                "confirmation": "Parent2024x",
                "courriel": "parent.%s@example.fr" % login,
                "date_naissance": "01/01/1990"}
        res = b.post("/activation", form)
        self.assertIn("Date de naissance incorrecte", res.text)
        check_page(self, res.text)
        # A field error sits next to its field.
        res = b.post("/activation", dict(form, confirmation="Autre2024x",
                                          date_naissance=born))
        self.assertRegex(res.text, r'field-error" id="activation-'
                         r'confirmation-erreur"')
        self.assertRegex(res.text, r'aria-describedby="activation-'
                         r'confirmation-erreur"')
        check_page(self, res.text)
        res = b.post("/activation", dict(form, date_naissance=born))
        self.assertIn("Un courriel vous a été envoyé à parent.%s@example.fr"
                      % login, res.text)
        self.assertEqual(self.state(login), "attente")
        # The link, from the mail the mailer delivered.
        token = s.mails(login, "activation")[-1][1]["token"]
        res = b.get("/confirmer?jeton=" + urllib.parse.quote(token))
        self.assertIn("Votre compte est activé", res.text)
        self.assertEqual(self.state(login), "active")
        res = b.get("/confirmer?jeton=" + urllib.parse.quote(token))
        self.assertIn('action="/renvoyer"', res.text)

        # Logged in again with the chosen password: the account page.
        b = self.browser()
        b.open("/")
        res = b.post("/connexion", {"identifiant": login,
                                    "mot_de_passe": "Parent2024x"})
        self.assertEqual(res.status, 303)
        self.assertEqual(res.getheader("Location"), "/compte")
        res = b.open("/compte")
        self.assertEqual(res.status, 200, res.text)
        self.assertIn(login, res.text)
        check_page(self, res.text)
        self.assertIn("parent.%s@example.fr" % login, res.text)
        # A wrong current password is said above the form; then a change.
        res = b.post("/compte/mot-de-passe", {
            "mot_de_passe_actuel": "Faux2024x",
            "nouveau_mot_de_passe": "Parent2025y",
            "confirmation": "Parent2025y"})
        self.assertIn("Mot de passe actuel incorrect", res.text)
        check_page(self, res.text)
        res = b.post("/compte/mot-de-passe", {
            "mot_de_passe_actuel": "Parent2024x",
            "nouveau_mot_de_passe": "Parent2025y",
            "confirmation": "Parent2025y"})
        self.assertEqual(res.status, 303, res.text)
        res = b.open(res.getheader("Location"))
        self.assertIn("Votre mot de passe a été changé", res.text)
        res = b.post("/deconnexion", {})
        self.assertEqual(res.status, 303)
        self.assertNotIn("guichet_session", b.cookies)
        self.assertEqual(b.get("/compte").status, 303)

        # Forgotten password: the same answer for a stranger, a link for
        # the parent, and the new password works.
        b.open("/mot-de-passe-oublie")
        stranger = b.post("/mot-de-passe-oublie", {
            "identifiant": "personne.x", "courriel": "x@example.fr"})
        b.open("/mot-de-passe-oublie")
        res = b.post("/mot-de-passe-oublie", {
            "identifiant": login, "courriel": "parent.%s@example.fr" % login})
        self.assertEqual(res.status, 200, res.text)
        self.assertEqual(res.text, stranger.text)
        token = s.mails(login, "forgot_password")[-1][1]["token"]
        self.assertTrue(token)
        b.open("/mot-de-passe?jeton=" + urllib.parse.quote(token))
        res = b.post("/mot-de-passe", {"jeton": token,
                                       "nouveau_mot_de_passe": "Oubli2026z",
                                       "confirmation": "Oubli2026z"})
        self.assertIn("Votre nouveau mot de passe est enregistré", res.text)
        b.open("/")
        res = b.post("/connexion", {"identifiant": login,
                                    "mot_de_passe": "Oubli2026z"})
        self.assertEqual(res.getheader("Location"), "/compte")

    def state(self, login):
        return self.s.psql("select state from accounts where login = '%s'"
                           % login)[1]


if __name__ == "__main__":
    unittest.main()
