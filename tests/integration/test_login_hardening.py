"""Logins under abuse: one answer and one cost for every refusal, failure
counters per address and per account that decay (kept in the database),
TOTP enrolment, single-use codes, sealed secrets, TOTP required by role,
the absolute lifetime of sessions, and the checks of the server key at
start.

Tests that fill the address counter of 127.0.0.1 run on their own daemon
with small limits, and every class leaves login_throttle empty, so the
other tests (all from 127.0.0.1) are not refused."""

import base64
import hashlib
import hmac
import os
import re
import shutil
import socket
import ssl
import statistics
import struct
import time
import unittest

import harness

REFUSED = ("Connexion refusée : identifiant, mot de passe ou code incorrect, "
           "ou trop de tentatives.")
URI_RE = re.compile(r"otpauth://totp/Responsables:([a-z0-9._-]+)\?"
                    r"secret=([A-Z2-7]+)&issuer=Responsables")
QR_CHARS = set("▀▄█ ")


def totp(secret, when=None):
    """The RFC 6238 code of a base32 secret at a moment (default now)."""
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    step = int((time.time() if when is None else when) // 30)
    md = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = md[-1] & 0xf
    n = struct.unpack(">I", md[off:off + 4])[0] & 0x7fffffff
    return "%06d" % (n % 1000000)


def wrong_code(secret):
    """A six-digit code good for no step the server accepts now."""
    now = time.time()
    near = {totp(secret, now + d * 30) for d in range(-2, 3)}
    return next(c for c in ("000000", "111111", "222222") if c not in near)


def connect_from(stack, source, port=None):
    """A protocol client whose connection comes from source (another
    loopback address, for a second client address)."""
    ctx = ssl.create_default_context(cafile=os.path.join(stack.tls, "ca.crt"))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    raw = socket.create_connection(("127.0.0.1", port or stack.main.port), 10,
                                   source_address=(source, 0))
    return harness.Client(ctx.wrap_socket(raw, server_hostname="127.0.0.1"))


def login(stack, user, password, totp_code=None, port=None):
    c = stack.connect(port=port)
    c.hello()
    args = {"login": user, "password": password}
    if totp_code is not None:
        args["totp"] = totp_code
    r = c.call("login", **args)
    c.close()
    return r


def enrol(stack, user):
    """Enrol user in TOTP with ecadmctl; returns (stdout, secret)."""
    res = stack.ctl("staff", "totp", user, user="admin")
    if res.returncode != 0:
        raise AssertionError("staff totp %s exited %d: %s" % (
            user, res.returncode, res.stderr))
    m = URI_RE.search(res.stdout)
    if m is None:
        raise AssertionError("no otpauth URI in:\n" + res.stdout)
    return res.stdout, m.group(2)


def reset_throttle(stack):
    stack.psql("delete from login_throttle")


def start_daemon(stack, name, extra):
    d = harness.Daemon(stack, name, harness.free_port(), extra=extra)
    d.start()
    stack.daemons.append(d)
    return d


def stop_daemon(d):
    d.stop()
    report = harness.sanitizer_report(d.read_log())
    if report:
        raise AssertionError("sanitizer report from %s:\n%s" % (d.log,
                                                                report))


class TestOneAnswer(unittest.TestCase):
    """Unknown login, wrong password, locked, disabled, TOTP missing or
    wrong: the same E_AUTH message, after one scrypt verification."""

    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        for login in ("one.wrong", "one.locked", "one.disabled", "one.totp"):
            cls.s.add_staff(login, "assistance", [], "Test " + login)
        cls.s.psql("update staff set locked_until = now() + interval "
                   "'1 hour' where login = 'one.locked'")
        res = cls.s.ctl("staff", "disable", "one.disabled", user="admin")
        assert res.returncode == 0, res.stderr

    def tearDown(self):
        reset_throttle(self.s)

    def refusals(self):
        _, secret = enrol(self.s, "one.totp")
        u = self.s.users
        return {
            "unknown login": login(self.s, "nobody.here", "Wrong-pass-123"),
            "wrong password": login(self.s, "one.wrong", "Wrong-pass-123"),
            "locked": login(self.s, "one.locked", u["one.locked"]),
            "disabled": login(self.s, "one.disabled", u["one.disabled"]),
            "TOTP missing": login(self.s, "one.totp", u["one.totp"]),
            "TOTP wrong": login(self.s, "one.totp", u["one.totp"],
                                wrong_code(secret)),
        }

    def test_every_refusal_has_the_same_answer(self):
        for why, r in self.refusals().items():
            self.assertFalse(r["ok"], "%s: expected a refusal, got %r" % (
                why, r))
            self.assertEqual(r["error"]["code"], "E_AUTH", why)
            self.assertEqual(r["error"]["message"], REFUSED,
                             "%s: expected the one message" % why)

    def test_the_log_says_why_but_no_secret(self):
        self.refusals()
        log = self.s.main.read_log()
        for why in ("locked", "disabled", "TOTP code missing",
                    "TOTP code wrong", "wrong password"):
            self.assertIn(why, log)
        for secret in ("Wrong-pass-123", self.s.users["one.locked"],
                       self.s.users["one.totp"]):
            self.assertNotIn(secret, log)
        # An unknown login may be a password typed in the wrong field.
        self.assertNotIn("nobody.here", log)

    def test_every_refusal_costs_one_scrypt(self):
        """A locked or disabled account answers no faster than an unknown
        login (both should run scrypt, about 100 ms); without it they
        answer in a millisecond or two."""
        def median(user, password):
            times = []
            c = self.s.connect()
            c.hello()
            for _ in range(3):
                t = time.monotonic()
                r = c.login(user, password)
                times.append(time.monotonic() - t)
                self.assertEqual(r["error"]["code"], "E_AUTH")
            c.close()
            return statistics.median(times)
        unknown = median("nobody.here", "Wrong-pass-123")
        for user in ("one.locked", "one.disabled"):
            t = median(user, self.s.users[user])
            self.assertGreater(t, 0.4 * unknown, "%s answered in %.1f ms, "
                               "an unknown login in %.1f ms" % (
                                   user, t * 1000, unknown * 1000))


class TestAccountDecay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        cls.s.add_staff("decay.me", "assistance", [], "Décroissance Test")

    def tearDown(self):
        reset_throttle(self.s)

    def failures(self):
        _, n, _ = self.s.psql("select failed_logins from staff "
                              "where login = 'decay.me'")
        return int(n)

    def test_failures_of_an_account_decay(self):
        for _ in range(3):
            login(self.s, "decay.me", "Wrong-pass-123")
        self.assertEqual(self.failures(), 3)
        # An hour later (default decay: one failure per 5 minutes), the
        # three are forgotten: the next failure counts alone.
        self.s.psql("update staff set last_failed_at = now() - interval "
                    "'1 hour' where login = 'decay.me'")
        login(self.s, "decay.me", "Wrong-pass-123")
        self.assertEqual(self.failures(), 1)
        # Ten minutes: two of four forgotten.
        for _ in range(3):
            login(self.s, "decay.me", "Wrong-pass-123")
        self.assertEqual(self.failures(), 4)
        self.s.psql("update staff set last_failed_at = now() - interval "
                    "'10 minutes 10 seconds' where login = 'decay.me'")
        login(self.s, "decay.me", "Wrong-pass-123")
        self.assertEqual(self.failures(), 3)
        r = login(self.s, "decay.me", self.s.users["decay.me"])
        self.assertTrue(r["ok"], r)
        self.assertEqual(self.failures(), 0)


class TestAddressThrottle(unittest.TestCase):
    """A daemon that allows 3 failures per address and forgets one every
    2 seconds."""

    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        reset_throttle(cls.s)
        cls.d = start_daemon(cls.s, "throttle", "[security]\n"
                             "login_addr_max_failures = 3\n"
                             "login_failure_decay = 2\n")

    @classmethod
    def tearDownClass(cls):
        stop_daemon(cls.d)
        reset_throttle(cls.s)

    def setUp(self):
        reset_throttle(self.s)

    def test_failures_from_one_address_refuse_even_a_good_password(self):
        port = self.d.port
        for i in range(3):
            r = login(self.s, "ghost%d" % i, "Wrong-pass-123", port=port)
            self.assertEqual(r["error"]["message"], REFUSED)
        _, n, _ = self.s.psql("select failures from login_throttle "
                              "where addr = '127.0.0.1'")
        self.assertEqual(n, "3")
        r = login(self.s, "dir.a", self.s.users["dir.a"], port=port)
        self.assertFalse(r["ok"], "a correct password from an address "
                         "over its limit was accepted")
        self.assertEqual(r["error"]["message"], REFUSED)
        # Another address is not concerned.
        c = connect_from(self.s, "127.0.0.2", port=port)
        c.hello()
        r = c.login("dir.a", self.s.users["dir.a"])
        self.assertTrue(r["ok"], r)
        c.close()
        self.assertIn("too many failures from this address",
                      self.d.read_log())
        # One failure is forgotten after 2 s: 2 left, under the limit.
        time.sleep(2.5)
        r = login(self.s, "dir.a", self.s.users["dir.a"], port=port)
        self.assertTrue(r["ok"], r)

    def test_the_count_is_shared_by_every_instance(self):
        # Failures made on the shared daemon count on this one.
        for i in range(3):
            login(self.s, "ghost%d" % i, "Wrong-pass-123")
        r = login(self.s, "dir.a", self.s.users["dir.a"], port=self.d.port)
        self.assertEqual(r["error"]["code"], "E_AUTH")


class TestTotp(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        for login_ in ("otp.user", "otp.other"):
            cls.s.add_staff(login_, "assistance", [], "Test " + login_)

    def tearDown(self):
        reset_throttle(self.s)

    def test_enrolment_prints_uri_and_qr_code(self):
        out, secret = enrol(self.s, "otp.user")
        self.assertIn("otpauth://totp/Responsables:otp.user?secret=%s"
                      "&issuer=Responsables" % secret, out)
        self.assertEqual(len(base64.b32decode(secret)), 20)
        qr = [l for l in out.splitlines() if l and set(l) <= QR_CHARS
              and len(l) > 20]
        self.assertGreaterEqual(len(qr), 12, "no QR block in:\n" + out)
        width = len(qr[0])
        self.assertTrue(all(len(l) == width for l in qr), out)
        # Square: two rows of modules a line, an odd number of rows.
        self.assertEqual(len(qr), (width + 1) // 2, out)
        # The quiet zone: the first and last lines are all light.
        self.assertEqual(set(qr[0]), {"█"})
        self.assertEqual(set(qr[-1]), {"▀"})
        r = login(self.s, "otp.user", self.s.users["otp.user"], totp(secret))
        self.assertTrue(r["ok"], r)

    def test_a_code_is_good_once(self):
        _, secret = enrol(self.s, "otp.user")
        code = totp(secret)
        r = login(self.s, "otp.user", self.s.users["otp.user"], code)
        self.assertTrue(r["ok"], r)
        r = login(self.s, "otp.user", self.s.users["otp.user"], code)
        self.assertFalse(r["ok"], "a TOTP code was accepted twice")
        self.assertEqual(r["error"]["message"], REFUSED)
        # The code of the next step (clock drift) is still good, once.
        code = totp(secret, time.time() + 30)
        r = login(self.s, "otp.user", self.s.users["otp.user"], code)
        self.assertTrue(r["ok"], r)
        self.assertIn("TOTP code wrong or already used",
                      self.s.main.read_log())

    def test_secret_is_sealed_in_the_database(self):
        _, secret = enrol(self.s, "otp.user")
        _, row, _ = self.s.psql(
            "select coalesce(totp_secret_clear, ''), encode(totp_sealed, 'hex')"
            " from staff where login = 'otp.user'")
        clear, sealed = row.split("|")
        self.assertEqual(clear, "")
        self.assertGreater(len(sealed), 2 * len(secret))
        for form in (secret, secret.lower(), secret.encode().hex(),
                     base64.b32decode(secret).hex()):
            self.assertNotIn(form, sealed)
        _, dump, _ = self.s.psql("select s::text from staff s "
                                 "where login = 'otp.user'")
        self.assertNotIn(secret, dump)
        self.assertNotIn(base64.b32decode(secret).hex(), dump)

    def test_sealed_secret_is_bound_to_its_account(self):
        _, secret = enrol(self.s, "otp.other")
        enrol(self.s, "otp.user")
        self.s.psql("update staff set totp_sealed = (select totp_sealed "
                    "from staff where login = 'otp.other') "
                    "where login = 'otp.user'")
        r = login(self.s, "otp.user", self.s.users["otp.user"], totp(secret))
        self.assertFalse(r["ok"], "a secret copied from another account "
                         "opened")
        # Nor does a sealed provisional password, were there one.
        _, n, _ = self.s.psql("select count(*) from accounts "
                              "where provisional is not null")
        if int(n) > 0:
            self.s.psql("update staff set totp_sealed = (select provisional"
                        " from accounts where provisional is not null "
                        "limit 1) where login = 'otp.user'")
            r = login(self.s, "otp.user", self.s.users["otp.user"],
                      "123456")
            self.assertFalse(r["ok"])
        enrol(self.s, "otp.user")

    def test_remove_and_list(self):
        _, secret = enrol(self.s, "otp.user")
        staff = {x["login"]: x for x in self.s.ctl_json("staff", "list",
                                                         user="admin")}
        self.assertTrue(staff["otp.user"]["totp"])
        res = self.s.ctl("staff", "totp", "otp.user", "--remove",
                         user="admin")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("retiré", res.stdout)
        r = login(self.s, "otp.user", self.s.users["otp.user"])
        self.assertTrue(r["ok"], r)
        staff = {x["login"]: x for x in self.s.ctl_json("staff", "list",
                                                         user="admin")}
        self.assertFalse(staff["otp.user"]["totp"])

    def test_only_admins_enrol(self):
        res = self.s.ctl("staff", "totp", "otp.user", user="help")
        self.assertEqual(res.returncode, 1)
        self.assertIn("E_FORBIDDEN", res.stderr)
        res = self.s.ctl("staff", "totp", "no.such.login", user="admin")
        self.assertEqual(res.returncode, 1)
        self.assertIn("E_NOT_FOUND", res.stderr)


class TestTotpRequired(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        cls.s.add_staff("must.otp", "assistance", [], "Obligé Test")
        cls.d = start_daemon(cls.s, "totpreq", "[security]\n"
                             "totp_required = assistance, admin\n")

    @classmethod
    def tearDownClass(cls):
        stop_daemon(cls.d)
        reset_throttle(cls.s)

    def test_role_without_totp_is_told_to_ask_an_admin(self):
        port = self.d.port
        r = login(self.s, "must.otp", self.s.users["must.otp"], port=port)
        self.assertEqual(r["error"]["code"], "E_AUTH")
        self.assertIn("administrateur", r["error"]["message"])
        self.assertIn("TOTP", r["error"]["message"])
        # Only after the correct password: else the one answer.
        r = login(self.s, "must.otp", "Wrong-pass-123", port=port)
        self.assertEqual(r["error"]["message"], REFUSED)
        self.assertIn("TOTP is required for the role assistance",
                      self.d.read_log())
        # Other roles are not concerned.
        r = login(self.s, "dir.a", self.s.users["dir.a"], port=port)
        self.assertTrue(r["ok"], r)
        # Enrolled, it logs in with its code.
        _, secret = enrol(self.s, "must.otp")
        r = login(self.s, "must.otp", self.s.users["must.otp"], totp(secret),
                  port=port)
        self.assertTrue(r["ok"], r)

    def test_init_admin_enrols_when_admins_need_totp(self):
        out = self.s.run(os.path.join(harness.BUILD, "ecadmd"), "-c",
                         self.d.config, "init-admin",
                         "root.otp").stdout.decode().splitlines()
        self.assertEqual(len(out), 2, out)
        password = out[0].split()[1]
        m = URI_RE.fullmatch(out[1])
        self.assertIsNotNone(m, out[1])
        self.assertEqual(m.group(1), "root.otp")
        r = login(self.s, "root.otp", password, totp(m.group(2)),
                  port=self.d.port)
        self.assertTrue(r["ok"], r)

    def test_unknown_role_is_refused_at_start(self):
        d = harness.Daemon(self.s, "badrole", harness.free_port(),
                           extra="[security]\ntotp_required = chef\n")
        with self.assertRaises(RuntimeError) as cm:
            d.start()
            d.stop()
        self.assertIn("totp_required", str(cm.exception))


class TestSessionLifetime(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        cls.s.add_staff("long.day", "assistance", [], "Longue Journée")

    def age(self, token, hours):
        self.s.psql("update staff_sessions set created_at = now() - "
                    "interval '%d hours', last_seen = now() where "
                    "token_hash = decode('%s', 'hex')" % (
                        hours, hashlib.sha256(token.encode()).hexdigest()))

    def test_session_ends_after_its_lifetime_however_active(self):
        c = self.s.connect()
        c.hello()
        token = c.login("long.day", self.s.users["long.day"])["result"][
            "token"]
        self.age(token, 11)
        self.assertTrue(c.call("whoami")["ok"])
        self.age(token, 13)
        r = c.call("whoami")
        self.assertEqual(r["error"]["code"], "E_AUTH")
        self.assertIn("Session expirée", r["error"]["message"])
        c.close()
        other = self.s.connect()
        other.hello()
        self.assertEqual(other.call("resume", token=token)["error"]["code"],
                         "E_AUTH")
        other.close()

    def test_lifetime_is_a_documented_setting(self):
        out = self.s.run(os.path.join(harness.BUILD, "ecadmd"),
                         "--dump-config").stdout.decode()
        self.assertIn("session_lifetime = 12", out)


class TestServerKey(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()

    def refused(self, name, key_file):
        d = harness.Daemon(self.s, name, harness.free_port(),
                           extra="[security]\nkey_file = %s\n" % key_file)
        try:
            d.start()
        except RuntimeError as e:
            return str(e)
        d.stop()
        self.fail("ecadmd started with key_file %s" % key_file)

    def test_key_open_to_others_is_refused(self):
        for mode in (0o644, 0o640):
            path = os.path.join(self.s.dir, "key-%o.key" % mode)
            shutil.copy(os.path.join(self.s.dir, "secret.key"), path)
            os.chmod(path, mode)
            log = self.refused("key%o" % mode, path)
            self.assertIn("chmod 600", log)

    def test_missing_key_with_sealed_secrets_is_refused(self):
        self.s.add_staff("key.otp", "assistance", [], "Clé Test")
        enrol(self.s, "key.otp")
        path = os.path.join(self.s.dir, "lost.key")
        log = self.refused("lostkey", path)
        self.assertIn("missing", log)
        self.assertIn("TOTP secrets", log)
        self.assertFalse(os.path.exists(path), "a new key was created")


if __name__ == "__main__":
    unittest.main()
