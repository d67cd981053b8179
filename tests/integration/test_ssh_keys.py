"""SSH keys of staff members and the logins of ecadm-sshd with them:
staff set-key / keys / remove-key through ecadmctl, with fingerprints as
ssh-keygen prints them; ssh-key and ssh-login spoken by hand with the sshd
client certificate (and refused to every other kind of peer); the
refusals and what they count; TOTP; the end of the sessions of a removed
key; and migration 009, which moves the old staff.ssh_key into
staff_keys."""

import hashlib
import os
import re
import subprocess
import time
import unittest

import harness
from test_login_hardening import enrol, start_daemon, stop_daemon, totp, \
    wrong_code

KEY_REFUSED = "Clé refusée."
# The address of the gateway's SSH client in these tests: a documentation
# address, so its failures never throttle the tests' own 127.0.0.1.
SSH_ADDR = "192.0.2.10"


def make_key(stack, name, kind="ed25519", comment=None):
    """A key made by ssh-keygen: (path of the .pub, "TYPE BASE64" as the
    gateway sends it, fingerprint as ssh-keygen -lf prints it)."""
    path = os.path.join(stack.dir, "id_" + name)
    if not os.path.exists(path):
        args = ["ssh-keygen", "-q", "-N", "", "-f", path,
                "-C", comment or name + "@test"]
        args += ["-t", "ecdsa", "-b", "384"] if kind == "ecdsa" else \
            ["-t", kind] + (["-b", "2048"] if kind == "rsa" else [])
        subprocess.run(args, check=True)
    with open(path + ".pub") as f:
        line = f.read().strip()
    out = subprocess.run(["ssh-keygen", "-lf", path + ".pub"], check=True,
                         capture_output=True, text=True).stdout
    return path + ".pub", " ".join(line.split()[:2]), out.split()[1]


def staff_with_key(stack, logins, key_name, with_key=None):
    """Add assistance staff members; give one key made for them to those
    of with_key (default all); returns make_key's triple."""
    for login in logins:
        stack.add_staff(login, "assistance", [], "SSH " + login)
    made = make_key(stack, key_name)
    for login in logins if with_key is None else with_key:
        res = stack.ctl("staff", "set-key", login, made[0], user="admin")
        assert res.returncode == 0, res.stderr
    return made


def resume(stack, token):
    """Resume a session from a plain client; the reply."""
    c = stack.connect()
    c.hello()
    r = c.call("resume", token=token)
    c.close()
    return r


def sshd(stack, port=None):
    c = stack.connect(cert="sshd", port=port)
    assert c.hello()["result"]["peer"] == "sshd"
    return c


def failures(stack, login):
    _, n, _ = stack.psql("select failed_logins from staff where login = '%s'"
                         % login)
    return int(n)


def throttle(stack, addr):
    _, n, _ = stack.psql("select coalesce(sum(failures), 0) from "
                         "login_throttle where addr = '%s'" % addr)
    return int(n)


class TestKeysCommands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        cls.s.add_staff("keys.list", "assistance", [], "Clés Liste")

    def set_key(self, login, pub, **kw):
        return self.s.ctl("staff", "set-key", login, pub, user="admin", **kw)

    def test_set_key_adds_and_says_when_already_there(self):
        pub, _, fp = make_key(self.s, "list1")
        res = self.set_key("keys.list", pub)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout, "Clé ajoutée pour keys.list : %s "
                         "(ssh-ed25519)\n" % fp)
        res = self.set_key("keys.list", pub)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout, "Clé déjà enregistrée pour keys.list : "
                         "%s (ssh-ed25519)\n" % fp)
        r = self.s.ctl_json("staff", "set-key", "keys.list", pub,
                            user="admin")
        self.assertEqual(r, {"login": "keys.list", "fingerprint": fp,
                             "type": "ssh-ed25519", "added": False})
        # A second key is added beside the first.
        pub2, _, fp2 = make_key(self.s, "list2", "ecdsa")
        r = self.s.ctl_json("staff", "set-key", "keys.list", pub2,
                            user="admin")
        self.assertTrue(r["added"], r)
        self.assertEqual(r["type"], "ecdsa-sha2-nistp384")
        keys = self.s.ctl_json("staff", "keys", "keys.list", user="admin")
        self.assertEqual([(k["fingerprint"], k["type"], k["comment"])
                          for k in keys],
                         [(fp, "ssh-ed25519", "list1@test"),
                          (fp2, "ecdsa-sha2-nistp384", "list2@test")])
        for k in keys:
            self.assertRegex(k["created"], r"^\d{4}-\d\d-\d\d \d\d:\d\d$")
        # One event for each key added, none for the one already there.
        _, out, _ = self.s.psql(
            "select string_agg(e.detail, ',' order by e.id) from events e"
            " join staff s on s.id = e.staff_id where s.login = 'keys.list'"
            " and e.action = 'staff_set_key'")
        self.assertEqual(out, "%s (ssh-ed25519),%s (ecdsa-sha2-nistp384)" %
                         (fp, fp2))
        staff = {x["login"]: x for x in self.s.ctl_json(
            "staff", "list", user="admin")}
        self.assertTrue(staff["keys.list"]["ssh_key"])
        self.assertEqual(staff["keys.list"]["ssh_keys"], 2)

    def test_keys_table(self):
        self.s.add_staff("keys.table", "assistance", [], "Clés Table")
        res = self.s.ctl("staff", "keys", "keys.table", user="admin")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout, "Aucune clé SSH pour keys.table.\n")
        pub, _, fp = make_key(self.s, "table", "rsa", comment="portable "
                              "d'Hélène")
        self.assertEqual(self.set_key("keys.table", pub).returncode, 0)
        res = self.s.ctl("staff", "keys", "keys.table", user="admin")
        self.assertEqual(res.returncode, 0, res.stderr)
        lines = res.stdout.splitlines()
        self.assertEqual(lines[0].split(), ["Empreinte", "Type",
                                            "Commentaire", "Ajoutée"])
        self.assertEqual(len(lines), 2, res.stdout)
        self.assertEqual(lines[1].split()[:2], [fp, "ssh-rsa"])
        self.assertIn("portable d'Hélène", lines[1])
        self.assertRegex(lines[1], r"\d{4}-\d\d-\d\d \d\d:\d\d$")

    def test_refusals(self):
        pub, _, fp = make_key(self.s, "refusals")
        bad = os.path.join(self.s.dir, "bad.pub")
        with open(bad, "w") as f:
            f.write("ssh-foo AAAAC3NzaC1lZDI1NTE5AAAAIA== x\n")
        cases = [
            (["staff", "set-key", "keys.list", bad], "E_INVALID",
             "Clé SSH illisible : type « ssh-foo » inconnu"),
            (["staff", "set-key", "nobody.here", pub], "E_NOT_FOUND",
             "nobody.here"),
            (["staff", "keys", "nobody.here"], "E_NOT_FOUND", "nobody.here"),
            (["staff", "remove-key", "keys.list", "SHA256:nope"],
             "E_NOT_FOUND", "SHA256:nope"),
            (["staff", "remove-key", "nobody.here", fp], "E_NOT_FOUND",
             "nobody.here"),
        ]
        for args, code, words in cases:
            res = self.s.ctl(*args, user="admin")
            self.assertEqual(res.returncode, 1, (args, res.stderr))
            self.assertIn(code, res.stderr, args)
            self.assertIn(words, res.stderr, args)
        for args in (["staff", "keys", "keys.list"],
                     ["staff", "remove-key", "keys.list", fp],
                     ["staff", "set-key", "keys.list", pub]):
            res = self.s.ctl(*args, user="help")
            self.assertEqual(res.returncode, 1, args)
            self.assertIn("E_FORBIDDEN", res.stderr, args)


class TestSshKey(unittest.TestCase):
    """ssh-key: whether a key is one of a member's, and whether a TOTP
    code will be asked."""

    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        cls.pub, cls.key, cls.fp = staff_with_key(
            cls.s, ("ssh.user", "ssh.off", "ssh.locked"), "user")
        cls.other_pub, cls.other, _ = make_key(cls.s, "other")
        res = cls.s.ctl("staff", "disable", "ssh.off", user="admin")
        assert res.returncode == 0, res.stderr
        cls.s.psql("update staff set locked_until = now() + interval "
                   "'1 hour' where login = 'ssh.locked'")

    def test_accepted_from_sshd_only(self):
        c = sshd(self.s)
        r = c.call("ssh-key", login="ssh.user", key=self.key, addr=SSH_ADDR)
        self.assertEqual(r, {"id": r["id"], "ok": True,
                             "result": {"totp": False}})
        # The comment may come along.
        r = c.call("ssh-key", login="ssh.user", key=self.key + " x@y",
                   addr="2001:db8::5")
        self.assertTrue(r["ok"], r)
        c.close()
        for cert in (None, "guichet"):
            c = self.s.connect(cert=cert)
            c.hello()
            if cert is None:
                self.assertTrue(c.login("dir.a", self.s.users["dir.a"])["ok"])
            for op in ("ssh-key", "ssh-login"):
                r = c.call(op, login="ssh.user", key=self.key, addr=SSH_ADDR)
                self.assertEqual(r["error"]["code"], "E_FORBIDDEN",
                                 (cert, op, r))
            c.close()

    def test_every_refusal_is_the_same(self):
        c = sshd(self.s)
        cases = {
            "unknown login": dict(login="nobody.here", key=self.key),
            "key not registered for this login":
                dict(login="ssh.user", key=self.other),
            "account disabled": dict(login="ssh.off", key=self.key),
            "account locked": dict(login="ssh.locked", key=self.key),
            "unreadable": dict(login="ssh.user", key="ssh-ed25519 AAAA!"),
        }
        before = failures(self.s, "ssh.user")
        for why, args in cases.items():
            for op in ("ssh-key", "ssh-login"):
                r = c.call(op, addr=SSH_ADDR, **args)
                self.assertFalse(r["ok"], (why, op, r))
                self.assertEqual(r["error"], {"code": "E_AUTH",
                                              "message": KEY_REFUSED},
                                 (why, op))
        c.close()
        log = self.s.main.read_log()
        for why in cases:
            self.assertIn(why, log)
        self.assertIn("SSH key %s refused for ssh.off from %s: account "
                      "disabled" % (self.fp, SSH_ADDR), log)
        # The fingerprint, never the key.
        self.assertNotIn(self.key.split()[1], log)
        self.assertNotIn(self.other.split()[1], log)
        # A key refused is not a guess: nothing counted.
        self.assertEqual(failures(self.s, "ssh.user"), before)
        self.assertEqual(failures(self.s, "ssh.off"), 0)
        self.assertEqual(throttle(self.s, SSH_ADDR), 0)

    def test_bad_arguments(self):
        c = sshd(self.s)
        for args in (dict(key=self.key, addr=SSH_ADDR),
                     dict(login="ssh.user", addr=SSH_ADDR),
                     dict(login="ssh.user", key=self.key),
                     dict(login="ssh.user", key=self.key, addr="host.example"),
                     dict(login="ssh.user", key=self.key, addr="10.0.0.1:22"),
                     dict(login="ssh.user", key=self.key, addr=7)):
            for op in ("ssh-key", "ssh-login"):
                r = c.call(op, **args)
                self.assertEqual(r["error"]["code"], "E_INVALID", (op, args))
        c.close()


class TestSshLogin(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        cls.pub, cls.key, cls.fp = staff_with_key(
            cls.s, ("ssh.in", "ssh.gone", "ssh.otp"), "in",
            with_key=("ssh.in", "ssh.otp"))

    def tearDown(self):
        self.s.psql("delete from login_throttle")

    def test_token_resumes_from_a_plain_client(self):
        c = sshd(self.s)
        r = c.call("ssh-login", login="ssh.in", key=self.key, addr=SSH_ADDR)
        self.assertTrue(r["ok"], r)
        res = r["result"]
        self.assertEqual((res["login"], res["role"]), ("ssh.in",
                                                       "assistance"))
        self.assertEqual(len(res["token"]), 64)
        # The gateway's connection now acts for the member.
        self.assertEqual(c.call("whoami")["result"]["login"], "ssh.in")
        r = c.call("ssh-login", login="ssh.in", key=self.key, addr=SSH_ADDR)
        self.assertEqual(r["error"]["code"], "E_INVALID")
        c.close()
        r = resume(self.s, res["token"])
        self.assertTrue(r["ok"], r)
        self.assertEqual(r["result"]["login"], "ssh.in")
        _, row, _ = self.s.psql(
            "select ss.channel, k.fingerprint from staff_sessions ss"
            " join staff_keys k on k.id = ss.ssh_key_id"
            " where ss.token_hash = decode('%s', 'hex')"
            % hashlib.sha256(res["token"].encode()).hexdigest())
        self.assertEqual(row, "ssh|" + self.fp)
        self.assertIn("ssh.in logged in as assistance with SSH key %s from "
                      "%s" % (self.fp, SSH_ADDR), self.s.main.read_log())

    def test_remove_key_ends_its_live_sessions(self):
        pub, key, fp = make_key(self.s, "gone")
        self.assertEqual(self.s.ctl("staff", "set-key", "ssh.gone", pub,
                                    user="admin").returncode, 0)
        # A password session of the same member is not concerned.
        pw = self.s.connect()
        pw.hello()
        self.assertTrue(pw.login("ssh.gone", self.s.users["ssh.gone"])["ok"])
        c = sshd(self.s)
        token = c.call("ssh-login", login="ssh.gone", key=key,
                       addr=SSH_ADDR)["result"]["token"]
        p = self.s.connect()
        p.hello()
        self.assertTrue(p.call("resume", token=token)["ok"])
        for conn in (c, p, pw):
            self.assertTrue(conn.call("whoami")["ok"])
        res = self.s.ctl("staff", "remove-key", "ssh.gone", fp, user="admin")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertEqual(res.stdout, "Clé retirée pour ssh.gone : %s\n" % fp)
        for conn in (c, p):
            r = conn.call("whoami")
            self.assertEqual(r["error"]["code"], "E_AUTH", r)
            self.assertIn("Session expirée", r["error"]["message"])
        self.assertTrue(pw.call("whoami")["ok"])
        for conn in (c, p, pw):
            conn.close()
        self.assertEqual(resume(self.s, token)["error"]["code"], "E_AUTH")
        _, row, _ = self.s.psql(
            "select ended_at is not null, ssh_key_id is null, channel"
            " from staff_sessions where token_hash = decode('%s', 'hex')"
            % hashlib.sha256(token.encode()).hexdigest())
        self.assertEqual(row, "t|t|ssh")
        # The key is refused now; its removal is in the journal.
        c = sshd(self.s)
        r = c.call("ssh-key", login="ssh.gone", key=key, addr=SSH_ADDR)
        self.assertEqual(r["error"]["message"], KEY_REFUSED)
        c.close()
        self.assertEqual(self.s.ctl_json("staff", "keys", "ssh.gone",
                                         user="admin"), [])
        _, out, _ = self.s.psql(
            "select e.action || ':' || e.detail from events e join staff s"
            " on s.id = e.staff_id where s.login = 'ssh.gone'"
            " order by e.id desc limit 1")
        self.assertEqual(out, "staff_remove_key:%s (ssh-ed25519)" % fp)

    def test_totp(self):
        _, secret = enrol(self.s, "ssh.otp")
        c = sshd(self.s)
        r = c.call("ssh-key", login="ssh.otp", key=self.key, addr=SSH_ADDR)
        self.assertEqual(r["result"], {"totp": True})
        before = failures(self.s, "ssh.otp")
        for code in (None, wrong_code(secret)):
            args = dict(login="ssh.otp", key=self.key, addr=SSH_ADDR)
            if code is not None:
                args["totp"] = code
            r = c.call("ssh-login", **args)
            self.assertEqual(r["error"]["code"], "E_AUTH", r)
            self.assertIn("code de vérification", r["error"]["message"])
        # Counted as a password login's failures are: the account, and the
        # SSH client's address (not the gateway's).
        self.assertEqual(failures(self.s, "ssh.otp"), before + 2)
        self.assertEqual(throttle(self.s, SSH_ADDR), 2)
        self.assertEqual(throttle(self.s, "127.0.0.1"), 0)
        code = totp(secret)
        r = c.call("ssh-login", login="ssh.otp", key=self.key, addr=SSH_ADDR,
                   totp=code)
        self.assertTrue(r["ok"], r)
        self.assertEqual(failures(self.s, "ssh.otp"), 0)
        c.close()
        # The step is spent: the same code is refused, by key or by
        # password.
        c = sshd(self.s)
        r = c.call("ssh-login", login="ssh.otp", key=self.key,
                   addr="2001:db8::7", totp=code)
        self.assertEqual(r["error"]["code"], "E_AUTH", r)
        c.close()
        self.assertEqual(throttle(self.s, "2001:db8::/64"), 1)
        p = self.s.connect()
        p.hello()
        r = p.call("login", login="ssh.otp", password=self.s.users["ssh.otp"],
                   totp=code)
        self.assertEqual(r["error"]["code"], "E_AUTH")
        p.close()
        log = self.s.main.read_log()
        for why in ("TOTP code missing", "TOTP code wrong or already used"):
            self.assertIn("SSH key %s refused for ssh.otp from %s: %s" % (
                self.fp, SSH_ADDR, why), log)
        self.assertNotIn(secret, log)

    def test_throttled_address_is_refused(self):
        self.s.psql("insert into login_throttle (addr, failures, "
                    "last_failure) values ('%s', 100, now())" % SSH_ADDR)
        c = sshd(self.s)
        r = c.call("ssh-login", login="ssh.in", key=self.key, addr=SSH_ADDR)
        self.assertEqual(r["error"]["message"], KEY_REFUSED)
        r = c.call("ssh-login", login="ssh.in", key=self.key,
                   addr="192.0.2.11")
        self.assertTrue(r["ok"], r)
        c.close()


class TestSshTotpRequired(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        cls.pub, cls.key, _ = staff_with_key(cls.s, ("ssh.must",), "must")
        cls.d = start_daemon(cls.s, "sshtotpreq", "[security]\n"
                             "totp_required = assistance\n")

    @classmethod
    def tearDownClass(cls):
        stop_daemon(cls.d)

    def test_role_without_totp_is_told_to_ask_an_admin(self):
        c = sshd(self.s, port=self.d.port)
        r = c.call("ssh-login", login="ssh.must", key=self.key, addr=SSH_ADDR)
        self.assertEqual(r["error"]["code"], "E_AUTH")
        self.assertIn("votre rôle exige un code de vérification",
                      r["error"]["message"])
        self.assertIn("ecadmctl staff totp ssh.must", r["error"]["message"])
        self.assertEqual(failures(self.s, "ssh.must"), 0)
        _, secret = enrol(self.s, "ssh.must")
        r = c.call("ssh-login", login="ssh.must", key=self.key, addr=SSH_ADDR,
                   totp=totp(secret))
        self.assertTrue(r["ok"], r)
        c.close()


class TestMigration(unittest.TestCase):
    """Migration 009 on a database at 008 whose staff.ssh_key holds keys:
    each readable key becomes the member's first row of staff_keys, with
    the fingerprint ssh-keygen prints; one that does not read is dropped
    and named; the column goes."""

    DB = "ecadm_mig009"

    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()

    def superuser(self, sql):
        subprocess.run([os.path.join(harness.pg_bindir(), "psql"), "-X", "-q",
                        "-v", "ON_ERROR_STOP=1", "-h",
                        os.path.join(self.s.pg_dir, "run"), "-p",
                        str(self.s.pg_port), "-U", "postgres", "-d",
                        "postgres", "-c", sql], check=True,
                       capture_output=True, env=self.s.env())

    def psql(self, *args):
        return subprocess.run(
            [os.path.join(harness.pg_bindir(), "psql"), "-X", "-q", "-A",
             "-t", "-v", "ON_ERROR_STOP=1",
             self.s.database_url().replace("///ecadm?", "///%s?" % self.DB)]
            + list(args), check=True, capture_output=True, text=True,
            env=self.s.env()).stdout.strip()

    def tearDown(self):
        self.superuser("drop database if exists %s" % self.DB)

    def test_old_keys_are_moved(self):
        self.superuser("drop database if exists %s" % self.DB)
        self.superuser("create database %s owner ecadm" % self.DB)
        # The schema at 008, recorded as ecadmd migrate records it.
        self.psql("-c", "create table schema_migrations (version integer "
                  "primary key, name text not null, applied_at timestamptz"
                  " not null default now())")
        for n in range(1, 9):
            path, = [p for p in os.listdir(os.path.join(harness.ROOT, "sql"))
                     if p.startswith("%03d_" % n)]
            self.psql("-1", "-f", os.path.join(harness.ROOT, "sql", path))
            self.psql("-c", "insert into schema_migrations values (%d, '%s')"
                      % (n, path))
        keys = {}
        for login, kind in (("mig.ed", "ed25519"), ("mig.rsa", "rsa"),
                            ("mig.ec", "ecdsa")):
            pub, _, fp = make_key(self.s, "mig-" + kind, kind,
                                  comment="clé de " + login)
            with open(pub) as f:
                keys[login] = (f.read().strip(), fp)
        # As set-key stored them (no comment), with a comment, and broken.
        rows = [("mig.ed", " ".join(keys["mig.ed"][0].split()[:2])),
                ("mig.rsa", keys["mig.rsa"][0]),
                ("mig.ec", keys["mig.ec"][0] + "\n"),
                ("mig.bad", "ssh-ed25519 AAAAnotbase64!!!"),
                ("mig.liar", "ssh-rsa " + keys["mig.ed"][0].split()[1]),
                ("mig.none", None)]
        for login, value in rows:
            self.psql("-c", "insert into staff (login, name, role,"
                      " password_hash, ssh_key) values ('%s', 'Migration',"
                      " 'admin', 'x', %s)" % (login, "null" if value is None
                                              else "'%s'" % value))
        ini = os.path.join(self.s.dir, "mig009.ini")
        with open(ini, "w") as f:
            f.write(self.s.config_text(harness.free_port()).replace(
                "///ecadm?", "///%s?" % self.DB))
        res = subprocess.run([os.path.join(harness.BUILD, "ecadmd"), "-c",
                              ini, "migrate"], capture_output=True, text=True,
                             env=self.s.env())
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn("the SSH key of staff mig.bad is unreadable", res.stderr)
        self.assertIn("the SSH key of staff mig.liar is unreadable",
                      res.stderr)
        self.assertNotIn("mig.none", res.stderr)
        out = self.psql("-c", "select s.login || '|' || k.key_type || '|' ||"
                        " k.fingerprint || '|' || coalesce(k.comment, '-')"
                        " from staff_keys k join staff s on s.id = k.staff_id"
                        " order by s.login")
        self.assertEqual(out.splitlines(), [
            "mig.ec|ecdsa-sha2-nistp384|%s|clé de mig.ec" % keys["mig.ec"][1],
            "mig.ed|ssh-ed25519|%s|-" % keys["mig.ed"][1],
            "mig.rsa|ssh-rsa|%s|clé de mig.rsa" % keys["mig.rsa"][1]])
        self.assertEqual(self.psql("-c", "select count(*) from "
                                   "information_schema.columns where "
                                   "table_name = 'staff' and column_name = "
                                   "'ssh_key'"), "0")
        # Migrated to the last migration of sql/, whatever came after 009.
        last = max(int(n.split("_")[0]) for n in os.listdir(
            os.path.join(harness.ROOT, "sql")) if n[0].isdigit())
        self.assertEqual(self.psql("-c", "select max(version) from "
                                   "schema_migrations"), str(last))


if __name__ == "__main__":
    unittest.main()
