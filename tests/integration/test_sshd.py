"""ecadm-sshd with the real OpenSSH client: a director's key opens ecadm on
that director's school (in tmux, resized), a paper notification made there
is fetched with sftp and scp and read back with pdftotext; and everything
that must be refused is: unknown keys, passwords, disabled members and
removed keys (also mid-session), commands, port forwarding, paths out of
the SFTP folder, a wrong TOTP code, an address that failed too often."""

import os
import re
import shlex
import socket
import subprocess
import time
import unittest

import harness
from harness import uai
from test_login_hardening import enrol, totp, wrong_code
from test_tui import Tmux, class_school, notify_cp_on_paper

DENIED = "Permission denied (publickey)"


class SshdCase(unittest.TestCase):
    number = 0

    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        cls.sshd = harness.Sshd(cls.s).start()
        cls.keys = os.path.join(cls.s.dir, "ssh-keys")
        os.makedirs(cls.keys, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.sshd.stop()
        report = harness.sanitizer_report(cls.sshd.read_log())
        if report:
            raise AssertionError("sanitizer report from ecadm-sshd:\n" +
                                 report)

    def key(self, name):
        """A new ed25519 key pair; the private key's path."""
        path = os.path.join(self.keys, name)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "",
                        "-C", name + "@test", "-f", path], check=True)
        return path

    def fingerprint(self, key):
        out = subprocess.run(["ssh-keygen", "-lf", key + ".pub"], check=True,
                             capture_output=True, text=True).stdout
        return out.split()[1]

    def director(self, with_key=True):
        """A school of its own, its director and (with_key) a registered
        key: (uai, login, key path)."""
        SshdCase.number += 1
        n = SshdCase.number
        S = uai(3360000 + n)
        self.s.import_rows(class_school(S, "H%d" % n), "h%d.csv" % n)
        login = "dir.ssh%d" % n
        self.s.add_staff(login, "directeur", [S], "Direction SSH %d" % n)
        key = self.key(login)
        if with_key:
            self.set_key(login, key)
        return S, login, key

    def set_key(self, login, key):
        res = self.s.ctl("staff", "set-key", login, key + ".pub",
                         user="admin")
        self.assertEqual(res.returncode, 0, res.stderr)

    def ssh(self, key, login, *more, **kw):
        """ssh without a terminal; the CompletedProcess (text)."""
        return subprocess.run(self.sshd.ssh_args(key, login, *more, **kw),
                              capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)

    def ecadm(self, name, key, login, batch=True, width=100, height=30):
        """ssh -tt in tmux, as a director types it."""
        cmd = " ".join(shlex.quote(a) for a in self.sshd.ssh_args(
            key, login, "-tt", batch=batch))
        t = Tmux(self.s, name, cmd, {"TERM": "screen-256color",
                                      "LANG": "C.UTF-8"}, width, height)
        self.addCleanup(t.close)
        return t


    def until_ended(self, t):
        """Reload (r) until ecadm says the session is over: a key pressed
        while a reply is awaited is not a new request."""
        deadline = time.time() + 30
        while time.time() < deadline:
            t.keys("r")
            try:
                return t.wait_for("Reconnectez-vous avec ssh", timeout=2)
            except AssertionError:
                pass
        return t.wait_for("Reconnectez-vous avec ssh", timeout=1)


class TestSession(SshdCase):
    def test_host_key_made_once_with_its_fingerprint_logged(self):
        st = os.stat(self.sshd.host_key)
        self.assertEqual(st.st_mode & 0o777, 0o600)
        out = subprocess.run(["ssh-keygen", "-lf", self.sshd.host_key],
                             check=True, capture_output=True,
                             text=True).stdout
        self.assertIn("host key " + out.split()[1], self.sshd.read_log())
        self.assertIn("ED25519", out)

    def test_director_opens_ecadm_then_fetches_the_sheet(self):
        S, d, key = self.director()
        t = self.ecadm("sshd-main", key, d)
        screen = t.wait_for("lignes", timeout=30)
        self.assertIn(S, screen)
        self.assertIn("Direction SSH", screen)
        self.assertNotIn("Identifiant  :", screen)  # no login screen

        # The window follows the client's: the bottom line moves.
        def last_row_becomes(n):
            # A capture taken mid-redraw may be blank: wait for it.
            deadline = time.time() + 10
            while time.time() < deadline:
                rows = t.screen().rstrip("\n").split("\n")
                last = max((i for i, r in enumerate(rows) if r.strip()),
                           default=-1)
                if last == n:
                    return
                time.sleep(0.1)
            self.fail("the last line is not %d:\n%s" % (n, t.screen()))
        last_row_becomes(29)
        t.resize(120, 40)
        last_row_becomes(39)

        notify_cp_on_paper(t)
        t.keys("Enter")
        screen = t.wait_for("Document enregistré", timeout=30)
        folder = self.sshd.folder(d)
        self.assertEqual(os.stat(folder).st_mode & 0o777, 0o700)
        pdfs = [f for f in os.listdir(folder) if f.endswith(".pdf")]
        self.assertEqual(len(pdfs), 1)
        name = pdfs[0]
        # ecadm says how to fetch it from the director's machine.
        flat = screen.replace("\n", "")
        self.assertIn("scp -P %d %s@127.0.0.1:" % (self.sshd.port, d), flat)

        here = os.path.join(self.s.dir, "fetched-" + d)
        os.makedirs(here)
        res = self.sshd.sftp(key, d, "ls -1\nget %s\n" % name, here)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertIn(name, res.stdout)
        with open(os.path.join(folder, name), "rb") as a, \
                open(os.path.join(here, name), "rb") as b:
            self.assertEqual(a.read(), b.read())
        text = "\n".join(harness.pdf_pages(os.path.join(here, name)))
        for guardian in ("PARENT00", "PARENT01", "PARENT02", "PARENT03"):
            self.assertIn(guardian, text)
        # scp of OpenSSH 9 goes through SFTP too.
        os.unlink(os.path.join(here, name))
        res = subprocess.run(
            ["scp", "-P", str(self.sshd.port)] +
            self.sshd.client_options(key) +
            ["%s@127.0.0.1:%s" % (d, name), "."], cwd=here,
            capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertTrue(os.path.exists(os.path.join(here, name)))
        t.keys("q")

    def test_disabled_while_connected_then_refused(self):
        S, d, key = self.director()
        t = self.ecadm("sshd-disabled", key, d)
        t.wait_for("lignes", timeout=30)
        res = self.s.ctl("staff", "disable", d, user="admin")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.until_ended(t)
        res = self.ssh(key, d, "-T")
        self.assertEqual(res.returncode, 255)
        self.assertIn(DENIED, res.stderr)
        self.assertIn("%s refused" % d, self.sshd.read_log())

    def test_removed_key_ends_the_session_and_is_refused(self):
        S, d, key = self.director()
        t = self.ecadm("sshd-removed", key, d)
        t.wait_for("lignes", timeout=30)
        res = self.s.ctl("staff", "remove-key", d, self.fingerprint(key),
                         user="admin")
        self.assertEqual(res.returncode, 0, res.stderr)
        self.until_ended(t)
        res = self.ssh(key, d, "-T")
        self.assertEqual(res.returncode, 255)
        self.assertIn(DENIED, res.stderr)


class TestRefusals(SshdCase):
    def test_unregistered_key(self):
        S, d, key = self.director()
        other = self.key(d + "-other")
        res = self.ssh(other, d, "-T")
        self.assertEqual(res.returncode, 255)
        self.assertIn(DENIED, res.stderr)
        # Nor the right key under another login.
        res = self.ssh(key, "dir.a", "-T")
        self.assertEqual(res.returncode, 255)

    def test_password_never_offered(self):
        S, d, key = self.director()
        res = self.ssh(key, d, "-T", "-o", "PubkeyAuthentication=no",
                       "-o", "PreferredAuthentications=password,"
                       "keyboard-interactive", batch=False)
        self.assertEqual(res.returncode, 255)
        # The server lists publickey alone: a password is never asked.
        self.assertIn(DENIED, res.stderr)

    def test_command_refused_with_a_message(self):
        S, d, key = self.director()
        res = self.ssh(key, d, command=["ls", "/"])
        self.assertEqual(res.returncode, 1)
        self.assertIn("pas de commande ici", res.stderr)
        self.assertNotIn("etc", res.stdout)

    def test_no_terminal_refused_with_a_message(self):
        S, d, key = self.director()
        res = self.ssh(key, d, "-T")
        self.assertEqual(res.returncode, 1)
        self.assertIn("ssh -t", res.stderr)

    def test_port_forwarding_refused(self):
        S, d, key = self.director()
        local = harness.free_port()
        p = subprocess.Popen(self.sshd.ssh_args(
            key, d, "-N", "-o", "LogLevel=INFO", "-L",
            "%d:127.0.0.1:%d" % (local, self.s.main.port)),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.time() + 20
            while True:
                try:
                    c = socket.create_connection(("127.0.0.1", local), 1)
                    break
                except OSError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.1)
            c.settimeout(10)
            # ecadmd would answer a TLS hello; the tunnel gives nothing.
            try:
                c.sendall(b"\x16\x03\x01\x00\x05hello")
                self.assertEqual(c.recv(100), b"")
            except (ConnectionResetError, BrokenPipeError):
                pass
            c.close()
            time.sleep(0.5)     # the client writes its refusal
        finally:
            p.terminate()
            _, err = p.communicate(timeout=10)
        self.assertIn("administratively prohibited", err)

    def test_sftp_stays_in_the_folder(self):
        S, d, key = self.director()
        folder = self.sshd.folder(d)
        # The folder exists once the director has connected.
        self.sshd.sftp(key, d, "ls\n", self.s.dir)
        with open(os.path.join(folder, "Educonnect-test.pdf"), "wb") as f:
            f.write(b"%PDF-1.4 test\n")
        os.symlink("/etc/passwd", os.path.join(folder, "lien.pdf"))
        here = os.path.join(self.s.dir, "escape-" + d)
        os.makedirs(here)
        for cmd in ("get ../../etc/passwd", "get /etc/passwd",
                    "get lien.pdf", "get ../%s/lien.pdf" % d,
                    "put /etc/hostname", "mkdir x",
                    "rename Educonnect-test.pdf x.pdf"):
            res = self.sshd.sftp(key, d, cmd + "\n", here)
            self.assertNotEqual(res.returncode, 0, cmd)
        self.assertEqual(os.listdir(here), [])
        res = self.sshd.sftp(key, d, "ls -1\n", here)
        self.assertIn("Educonnect-test.pdf", res.stdout)
        self.assertNotIn("lien.pdf", res.stdout)
        res = self.sshd.sftp(key, d, "rm Educonnect-test.pdf\n", here)
        self.assertEqual(res.returncode, 0, res.stderr)
        self.assertFalse(os.path.exists(os.path.join(folder,
                                                     "Educonnect-test.pdf")))
        self.assertTrue(os.path.islink(os.path.join(folder, "lien.pdf")))

    def test_totp_code_after_the_key(self):
        S, d, key = self.director()
        _, secret = enrol(self.s, d)
        t = self.ecadm("sshd-totp", key, d, batch=False)
        t.wait_for("Code de vérification", timeout=30)
        t.text(wrong_code(secret))
        t.keys("Enter")
        # Refused, and asked again.
        deadline = time.time() + 20
        while time.time() < deadline and \
                "%s refused: " % d not in self.sshd.read_log():
            time.sleep(0.1)
        self.assertIn("%s refused: " % d, self.sshd.read_log())
        while time.time() < deadline and \
                t.screen().count("Code de vérification (TOTP)") < 2:
            time.sleep(0.1)
        self.assertGreaterEqual(
            t.screen().count("Code de vérification (TOTP)"), 2, t.screen())
        self.assertNotIn("lignes", t.screen())
        t.text(totp(secret))
        t.keys("Enter")
        screen = t.wait_for("lignes", timeout=30)
        self.assertIn(S, screen)


def proc_status(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line_ in f:
            if line_.startswith(field + ":"):
                return line_.split()[1:]
    return None


def proc_fds(pid):
    path = "/proc/%d/fd" % pid
    out = {}
    for fd in os.listdir(path):
        try:
            out[int(fd)] = os.readlink(os.path.join(path, fd))
        except OSError:
            pass
    return out


class TestIsolation(SshdCase):
    @unittest.skipUnless(os.geteuid() == 0, "needs root to drop to nobody")
    def test_processes_and_their_rights(self):
        """Started as root with user = nobody: the listener, each
        connection's process and its ecadm run as nobody, can gain nothing
        by exec, and ecadm holds its terminal and its link to ecadmd, no
        key, no token and none of the gateway's descriptors."""
        gw = harness.Sshd(self.s, name="sshd-nobody",
                          extra="user = nobody\n").start()
        self.addCleanup(gw.stop)
        S, d, key = self.director()
        cmd = " ".join(shlex.quote(a) for a in gw.ssh_args(key, d, "-tt"))
        t = Tmux(self.s, "sshd-nobody", cmd, {"TERM": "screen-256color",
                                               "LANG": "C.UTF-8"}, 100, 30)
        self.addCleanup(t.close)
        t.wait_for("lignes", timeout=30)
        self.assertIn("running as nobody", gw.read_log())
        listener = gw.proc.pid
        conns = harness.descendants(listener)
        ecadm = [p for p in conns
                 if open("/proc/%d/comm" % p).read().strip() == "ecadm"]
        self.assertEqual(len(ecadm), 1, conns)
        conn = [p for p in conns if p not in ecadm]
        self.assertEqual(len(conn), 1, conns)
        for pid in (listener, conn[0], ecadm[0]):
            self.assertEqual(proc_status(pid, "Uid"), ["65534"] * 4, pid)
            self.assertEqual(proc_status(pid, "Gid"), ["65534"] * 4, pid)
            self.assertEqual(proc_status(pid, "Groups"), [], pid)
        for pid in (conn[0], ecadm[0]):
            self.assertEqual(proc_status(pid, "NoNewPrivs"), ["1"], pid)
        # The keys stay root's; the folder is the member's alone.
        for path in (gw.host_key, os.path.join(self.s.tls, "sshd.key")):
            st = os.stat(path)
            self.assertEqual((st.st_uid, st.st_mode & 0o777), (0, 0o600))
        st = os.stat(gw.folder(d))
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (65534, 0o700))
        # Once the member is known, the connection's process has let go
        # of ecadmd: its one socket is the client's.
        sockets = [v for v in proc_fds(conn[0]).values()
                   if v.startswith("socket:")]
        self.assertEqual(len(sockets), 1, proc_fds(conn[0]))
        # ecadm: its terminal on 0-2, its socket to ecadmd, nothing more.
        fds = proc_fds(ecadm[0])
        self.assertTrue(all(fds[i].startswith("/dev/pts/")
                            for i in (0, 1, 2)), fds)
        others = [v for k, v in fds.items() if k > 2]
        self.assertEqual(len([v for v in others
                              if v.startswith("socket:")]), 1, fds)
        self.assertFalse([v for v in others
                          if not v.startswith(("socket:", "/dev/pts/",
                                               "anon_inode:"))], fds)
        with open("/proc/%d/environ" % ecadm[0], "rb") as f:
            names = {e.split(b"=", 1)[0].decode() for e in
                     f.read().split(b"\0") if e}
        self.assertLessEqual(names, {
            "TERM", "LANG", "PATH", "HOME", "USER", "ECADM_SERVER",
            "ECADM_CA", "ECADM_SESSION_FD", "ECADM_DOWNLOAD_DIR",
            "ECADM_DOWNLOAD_DAYS", "ECADM_DOWNLOAD_HINT"})
        t.keys("q")


class TestAbuse(SshdCase):
    def test_garbage_stalls_and_floods_leave_it_serving(self):
        """Garbage instead of a banner, connections that say nothing, more
        connections than allowed: each ends on its own, and a director
        gets in afterwards."""
        gw = harness.Sshd(self.s, name="sshd-abuse", extra=(
            "login_grace = 2\nmax_connections = 5\n"
            "max_failures = 1000\n")).start()
        self.addCleanup(gw.stop)
        S, d, key = self.director()
        junk = socket.create_connection(("127.0.0.1", gw.port), 10)
        junk.sendall(os.urandom(4096) + b"\r\n" * 10)
        junk.settimeout(10)
        try:
            while junk.recv(4096):
                pass
        except ConnectionResetError:
            pass
        junk.close()
        silent = [socket.create_connection(("127.0.0.1", gw.port), 10)
                  for _ in range(5)]
        time.sleep(0.5)
        extra = socket.create_connection(("127.0.0.1", gw.port), 10)
        extra.settimeout(10)
        try:
            self.assertEqual(extra.recv(100), b"")   # closed at once
        except ConnectionResetError:
            pass
        extra.close()
        for c in silent:    # each gets the banner, then the door
            c.settimeout(10)
            data = b""
            try:
                while True:
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            except ConnectionResetError:
                pass
            self.assertTrue(data.startswith(b"SSH-2.0-"), data[:40])
            c.close()
        self.assertIn("refused, 5 connections already", gw.read_log())
        t = Tmux(self.s, "sshd-after-abuse", " ".join(
            shlex.quote(a) for a in gw.ssh_args(key, d, "-tt")),
            {"TERM": "screen-256color", "LANG": "C.UTF-8"}, 100, 30)
        self.addCleanup(t.close)
        t.wait_for("lignes", timeout=30)
        self.assertIsNone(gw.proc.poll())


class TestAddressLimit(SshdCase):
    def test_failed_connections_close_the_address(self):
        limited = harness.Sshd(self.s, name="sshd-limited",
                               extra="max_failures = 2\n").start()
        self.addCleanup(limited.stop)
        S, d, key = self.director()
        other = self.key(d + "-stranger")
        for _ in range(2):
            res = subprocess.run(limited.ssh_args(other, d, "-T"),
                                 capture_output=True, text=True, timeout=60,
                                 stdin=subprocess.DEVNULL)
            self.assertEqual(res.returncode, 255)
        time.sleep(0.5)     # the listener counts the second one
        res = subprocess.run(limited.ssh_args(key, d, "-T"),
                             capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
        self.assertEqual(res.returncode, 255)
        self.assertNotIn(DENIED, res.stderr)    # not even asked
        self.assertIn("refused, too many failed connections",
                      limited.read_log())


if __name__ == "__main__":
    unittest.main()
