"""ecadm in a detached tmux: the login screen, direct login, and the
Responsables list with accented names, read back from capture-pane."""

import os
import shlex
import subprocess
import time
import unittest

import harness


class Tmux:
    def __init__(self, stack, name, command, env, width=100, height=30):
        self.socket = "ecadm-test-%d-%s" % (os.getpid(), name)
        self.stack = stack
        envs = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in env.items())
        subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null",
                        "new-session", "-d", "-s", "t", "-x", str(width),
                        "-y", str(height), "env %s %s" % (envs, command)],
                       check=True, env=stack.env())
        subprocess.run(["tmux", "-L", self.socket, "set-option", "-t", "t",
                        "remain-on-exit", "on"], check=True)

    def keys(self, *keys):
        subprocess.run(["tmux", "-L", self.socket, "send-keys", "-t", "t"]
                       + list(keys), check=True)

    def text(self, literal):
        subprocess.run(["tmux", "-L", self.socket, "send-keys", "-t", "t",
                        "-l", literal], check=True)

    def screen(self):
        return subprocess.run(["tmux", "-L", self.socket, "capture-pane",
                               "-p", "-t", "t"], check=True,
                              capture_output=True, text=True).stdout

    def wait_for(self, text, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError("%r not on screen after %ds:\n%s" % (
            text, timeout, self.screen()))

    def close(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"],
                       capture_output=True)


class TestTui(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        cls.rows = cls.s.ctl_json("search", user="dir.a")

    def ecadm(self, name, extra_env=None):
        env = {"LANG": "C.UTF-8", "TERM": "xterm-256color",
               "ECADM_SERVER": "127.0.0.1:%d" % self.s.main.port,
               "ECADM_CA": os.path.join(self.s.tls, "ca.crt"),
               "HOME": self.s.dir}
        env.update(extra_env or {})
        self.status_file = os.path.join(self.s.dir, name + ".status")
        t = Tmux(self.s, name, "sh -c %s" % shlex.quote(
            "%s 2>%s; echo $? >%s" % (
                os.path.join(harness.BUILD, "ecadm"),
                os.path.join(self.s.dir, name + ".stderr"),
                self.status_file)), env)
        self.addCleanup(t.close)
        return t

    def exit_status(self, timeout=10):
        """ecadm's exit status once it has quit."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self.status_file):
                with open(self.status_file) as f:
                    text = f.read().strip()
                if text:
                    with open(self.status_file.replace(".status",
                                                       ".stderr")) as f:
                        report = harness.sanitizer_report(f.read())
                    self.assertIsNone(report, report)
                    return int(text)
            time.sleep(0.1)
        raise AssertionError("ecadm did not exit")

    def test_login_screen_then_accented_pupil(self):
        t = self.ecadm("login")
        t.wait_for("Identifiant")
        t.text("dir.a")
        t.keys("Enter")
        t.text(self.s.users["dir.a"])
        t.keys("Enter")
        screen = t.wait_for("Responsables")
        t.wait_for("lignes")
        # The first pupil with a non-ASCII name, as the server orders rows.
        index = next(i for i, r in enumerate(self.rows)
                     if any(ord(c) > 127 for c in r["pupil"]))
        for _ in range(index):
            t.keys("Down")
        name = self.rows[index]["pupil"]
        screen = t.wait_for(name)
        self.assertIn("Anne Directrice", screen)
        self.assertIn("%d lignes" % len(self.rows), screen)
        # Columns line up: the class of that row starts where the header
        # puts "Classe".
        header = next(l for l in screen.splitlines() if l.startswith("Élève"))
        line = next(l for l in screen.splitlines() if l.startswith(name))
        col = header.index("Classe")
        self.assertEqual(line[col:].split("  ")[0].strip(),
                         self.rows[index]["class"] or "")
        t.keys("q")
        self.assertEqual(self.exit_status(), 0)

    def test_wrong_password_stays_on_login_screen(self):
        t = self.ecadm("badpw")
        t.wait_for("Identifiant")
        t.text("dir.a")
        t.keys("Enter")
        t.text("not-the-password1")
        t.keys("Enter")
        screen = t.wait_for("incorrect")
        self.assertIn("Mot de passe", screen)
        self.assertNotIn(self.rows[0]["pupil"], screen)
        t.keys("Escape")
        self.assertEqual(self.exit_status(), 0)

    def test_direct_login_from_the_environment(self):
        t = self.ecadm("direct", {"ECADM_USER": "dir.b",
                                  "ECADM_PASSWORD": self.s.users["dir.b"]})
        screen = t.wait_for("lignes")
        self.assertIn(harness.SCHOOL_B, screen)
        self.assertIn("Bruno Directeur", screen)
        t.keys("q")
        self.assertEqual(self.exit_status(), 0)


if __name__ == "__main__":
    unittest.main()
