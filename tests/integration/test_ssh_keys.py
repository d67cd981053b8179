"""SSH keys of staff members: staff set-key / keys / remove-key through
ecadmctl, with fingerprints as ssh-keygen prints them; and migration 009,
which moves the old staff.ssh_key into staff_keys."""

import os
import subprocess
import unittest

import harness


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
        self.assertEqual(self.psql("-c", "select max(version) from "
                                   "schema_migrations"), "9")


if __name__ == "__main__":
    unittest.main()
