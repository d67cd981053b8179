"""ecadm in a detached tmux, read back with capture-pane: login, the
Responsables tab (filters, ticks, notification, account card, reset), the
state screen against ecadmctl, sizes from 80x24 to 120x40, a server that
goes away in the middle of a session, an account card closed before the
server answered, and the terminal given back after SIGTERM or SIGHUP."""

import json
import os
import re
import shlex
import signal
import subprocess
import time
import unittest

import harness
from harness import line, uai


class Tmux:
    def __init__(self, stack, name, command, env, width=100, height=30):
        self.socket = "ecadm-test-%d-%s" % (os.getpid(), name)
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

    def resize(self, width, height):
        subprocess.run(["tmux", "-L", self.socket, "resize-window", "-t", "t",
                        "-x", str(width), "-y", str(height)], check=True)

    def pane_pid(self):
        """The process the pane runs (the sh that starts ecadm)."""
        return int(subprocess.run(["tmux", "-L", self.socket,
                                   "display-message", "-p", "-t", "t",
                                   "#{pane_pid}"], check=True,
                                  capture_output=True, text=True).stdout)

    def screen(self):
        return subprocess.run(["tmux", "-L", self.socket, "capture-pane",
                               "-p", "-t", "t"], check=True,
                              capture_output=True, text=True).stdout

    def wait_for(self, text, timeout=20, absent=False):
        deadline = time.time() + timeout
        while time.time() < deadline:
            screen = self.screen()
            if (text in screen) != absent:
                return screen
            time.sleep(0.1)
        raise AssertionError("%r %s after %ds:\n%s" % (
            text, "still on screen" if absent else "not on screen", timeout,
            self.screen()))

    def descendants(self):
        """The pids below the pane's shell (ecadm, and what it forks)."""
        try:
            return harness.descendants(self.pane_pid())
        except (subprocess.CalledProcessError, ValueError):
            return []

    def close(self):
        """Stop ecadm before the terminal goes: a SIGHUP that lands while
        an ASan build runs its leak check at exit can leave it spinning
        for ever (LeakSanitizer's tracer and the process wait on each
        other), eating a core of the machine the other tests share."""
        pids = self.descendants()
        for pid in pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.time() + 10
        while time.time() < deadline and any(
                os.path.exists("/proc/%d" % p) for p in pids):
            time.sleep(0.1)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["tmux", "-L", self.socket, "kill-server"],
                       capture_output=True)


def class_school(S, p):
    """Three classes, siblings, one ineligible guardian per class."""
    rows = []
    for k, (classe, niveau) in enumerate((("CP", "CP"), ("CE1", "CE1"),
                                          ("CM2", "CM2"))):
        for i in range(4):
            pid, gid = "%sP%d%d" % (p, k, i), "%sG%d%d" % (p, k, i)
            rows.append(line(S, pid, "ÉLÈVE%d%d" % (k, i), "Zoé", gid,
                             "PARENT%d%d" % (k, i), "Hélène", classe=classe,
                             niveau=niveau))
        rows.append(line(S, "%sP%d9" % (p, k), "SANSINE%d" % k, "Léo",
                         "%sG%d9" % (p, k), "PARENTSANSINE%d" % k, "Ana",
                         ine="", classe=classe, niveau=niveau))
    return rows


def notify_cp_on_paper(t):
    """In the Responsables tab of a class_school(): the CP class, every
    line ticked, n, Papier; returns the confirmation's screen, before it
    is accepted."""
    t.keys("c")
    t.wait_for("[ ] CP")
    t.keys("Space", "Enter")
    t.wait_for(" 5 lignes")
    t.keys("a")
    t.wait_for(" 5 cochées")
    t.keys("n")
    t.wait_for("Courriel : à l'adresse")
    t.keys("Enter")             # Papier, the first choice
    # The box is drawn before its text: wait for the text itself.
    return t.wait_for("4 comptes seront notifiés")


class TuiCase(unittest.TestCase):
    number = 0

    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()

    def school(self):
        TuiCase.number += 1
        n = TuiCase.number
        S = uai(3350000 + n)
        self.s.import_rows(class_school(S, "U%d" % n), "u%d.csv" % n)
        director = "dir.u%d" % n
        self.s.add_staff(director, "directeur", [S], "Direction U%d" % n)
        return S, director

    def terminal_env(self, name, env=None, port=None):
        """The environment of ecadm in tmux, its documents in
        self.downloads."""
        self.downloads = os.path.join(self.s.dir, "dl-" + name)
        e = {"LANG": "C.UTF-8", "TERM": "screen-256color",
             "ECADM_SERVER": "127.0.0.1:%d" % (port or self.s.main.port),
             "ECADM_CA": os.path.join(self.s.tls, "ca.crt"),
             "ECADM_DOWNLOAD_DIR": self.downloads, "HOME": self.s.dir}
        e.update(env or {})
        return e

    def ecadm(self, name, env=None, width=100, height=30, port=None,
              after=""):
        """ecadm in tmux; after: shell commands run once it exited."""
        e = self.terminal_env(name, env, port)
        self.status_file = os.path.join(self.s.dir, name + ".status")
        self.stderr_file = os.path.join(self.s.dir, name + ".stderr")
        t = Tmux(self.s, name, "sh -c %s" % shlex.quote(
            "%s 2>%s; echo $? >%s%s" % (os.path.join(harness.BUILD, "ecadm"),
                                       self.stderr_file, self.status_file,
                                       after)),
            e, width, height)
        self.addCleanup(t.close)
        return t

    def logged_in(self, name, user, **kw):
        t = self.ecadm(name, {"ECADM_USER": user,
                              "ECADM_PASSWORD": self.s.users[user]}, **kw)
        t.wait_for("lignes")
        return t

    def exit_status(self, timeout=10):
        """ecadm's exit status once it has quit (no sanitizer report)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if os.path.exists(self.status_file):
                with open(self.status_file) as f:
                    text = f.read().strip()
                if text:
                    with open(self.stderr_file) as f:
                        report = harness.sanitizer_report(f.read())
                    self.assertIsNone(report, report)
                    return int(text)
            time.sleep(0.1)
        raise AssertionError("ecadm did not exit")


class TestLogin(TuiCase):
    def test_login_screen_then_accented_pupil(self):
        rows = self.s.ctl_json("search", user="dir.a")
        t = self.ecadm("login")
        t.wait_for("Identifiant")
        t.text("dir.a")
        t.keys("Enter")
        t.text(self.s.users["dir.a"])
        t.keys("Enter")
        t.wait_for("%d lignes" % len(rows))
        # The first pupil with a non-ASCII name, as the server orders rows.
        index = next(i for i, r in enumerate(rows)
                     if any(ord(c) > 127 for c in r["pupil"]))
        for _ in range(index):
            t.keys("Down")
        name = rows[index]["pupil"]
        screen = t.wait_for(name)
        self.assertIn("Anne Directrice", screen)
        self.assertIn("1 Responsables", screen)
        # Columns line up: the class of that row starts under "Classe".
        header = next(l for l in screen.splitlines() if "Élève" in l)
        row = next(l for l in screen.splitlines() if name in l)
        col = header.index("Classe")
        self.assertEqual(row[col:].split(" ")[0], (rows[index]["class"] or
                                                   "").split(" ")[0])
        t.keys("q")
        self.assertEqual(self.exit_status(), 0)

    def test_slow_typist_outlasts_the_login_timeout(self):
        """ecadmd closes connections that do not log in within its
        login_timeout; the login screen reconnects without a word."""
        d = harness.Daemon(self.s, "tui-login-timeout", harness.free_port(),
                           "[server]\nlogin_timeout = 2\n").start()
        self.s.daemons.append(d)
        t = self.ecadm("slow", port=d.port)
        t.wait_for("Identifiant")
        t.text("dir.a")
        time.sleep(5)		# two login timeouts
        self.assertIn("no login in time", d.read_log())
        screen = t.screen()
        self.assertNotIn("perdue", screen)
        self.assertNotIn("injoignable", screen)
        t.keys("Enter")
        t.text(self.s.users["dir.a"])
        t.keys("Enter")
        t.wait_for("lignes")
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
        self.assertNotIn("Responsables ", screen.split("\n", 2)[1])
        t.keys("Escape")
        self.assertEqual(self.exit_status(), 0)


class TestResponsables(TuiCase):
    def test_class_filter(self):
        S, d = self.school()
        t = self.logged_in("classes", d)
        t.wait_for("15 lignes")
        t.keys("c")
        t.wait_for("[ ] CE1")
        t.keys("Down", "Space", "Enter")    # CP, CE1, CM2: tick CE1
        screen = t.wait_for(" 5 lignes")
        self.assertIn("Classes : CE1", screen)
        body = [l for l in screen.splitlines() if l.startswith("[ ]")
                and "Élève" not in l]
        self.assertEqual(len(body), 5)
        for l in body:
            self.assertIn(" CE1 ", l)
        # The text filter narrows as it is typed, accents ignored.
        t.keys("/")
        t.text("eleve11")
        screen = t.wait_for("1 ligne ")
        self.assertIn("ÉLÈVE11 Zoé", screen)
        t.keys("Escape")
        t.wait_for(" 5 lignes")

    def test_tick_all_and_notify_on_paper(self):
        S, d = self.school()
        t = self.logged_in("notify", d)
        screen = notify_cp_on_paper(t)
        self.assertIn("Notifier les comptes", screen)
        self.assertIn("4 nouveaux mots de passe", screen)
        self.assertIn("PARENTSANSINE0 Ana : INE manquant", screen)
        t.keys("Enter")
        screen = t.wait_for("Document enregistré")
        pdfs = [f for f in os.listdir(self.downloads) if f.endswith(".pdf")]
        self.assertEqual(len(pdfs), 1)
        self.assertRegex(pdfs[0], r"^Educonnect-Notifications-\d{14}\.pdf$")
        pages = harness.pdf_pages(os.path.join(self.downloads, pdfs[0]))
        self.assertEqual(len(pages), 4)
        t.keys("Enter")
        screen = t.wait_for("Notifié et non activé")
        notified = [l for l in screen.splitlines()
                    if "Notifié et non activé" in l]
        self.assertEqual(len(notified), 4)
        rows = self.s.ctl_json("search", "--class", "CP", user=d)
        for r in rows:
            if r["eligible"]:
                self.assertEqual(r["state"], "notifie")
                self.assertIn(r["password"], screen)
                self.assertTrue(any(r["password"] in p for p in pages))

    def test_notify_by_email_then_the_card_lists_the_mail(self):
        S = uai(3359003)
        self.s.import_rows([
            line(S, "EMP1", "COURRIEL", "Léa", "EMG1", "COURRIEL", "Anne",
                 email="anne.courriel@example.fr"),
            line(S, "EMP2", "SANSADRESSE", "Noé", "EMG2", "SANSADRESSE",
                 "Paul")], "em.csv")
        d = "dir.em"
        self.s.add_staff(d, "directeur", [S], "Direction EM")
        t = self.logged_in("email", d, width=120, height=40)
        t.wait_for(" 2 lignes")
        t.keys("a")
        t.wait_for(" 2 cochées")
        t.keys("n")
        t.wait_for("Courriel : à l'adresse")
        t.keys("Down")
        t.keys("Enter")
        # The box is drawn line by line: wait for its last line.
        screen = t.wait_for("SANSADRESSE Paul : pas d'adresse électronique")
        self.assertIn("1 compte sera notifié par courriel", screen)
        t.keys("Enter")
        t.wait_for("les courriels partent")
        # The mailer delivers it to the stack's Maildir.
        deadline = time.time() + 30
        while time.time() < deadline and not os.listdir(
                os.path.join(self.s.maildir, "new")):
            time.sleep(0.2)
        self.assertTrue(os.listdir(os.path.join(self.s.maildir, "new")))
        row = next(r for r in self.s.ctl_json("search", user=d)
                   if r["guardian"] == "COURRIEL Anne")
        self.assertEqual(row["state"], "notifie")
        t.keys("Home")
        t.keys("Enter")
        screen = t.wait_for("Courriels")
        deadline = time.time() + 20
        while "envoyé le" not in screen and time.time() < deadline:
            t.keys("Escape")
            t.keys("Enter")
            time.sleep(0.5)
            screen = t.screen()
        self.assertRegex(screen, r"Notification à anne\.courriel@example\.fr"
                         r", envoyé le")
        t.keys("Escape")
        t.keys("q")
        self.assertEqual(self.exit_status(), 0)

    def test_change_the_address_and_resend_the_link(self):
        S = uai(3359004)
        self.s.import_rows([
            line(S, "ATP1", "ATTENTE", "Léa", "ATG1", "ATTENTE", "Anne",
                 email="anne.attente@example.fr")], "at.csv")
        d = "dir.at"
        self.s.add_staff(d, "directeur", [S], "Direction AT")
        self.s.ctl("notify", "--paper", "--out", os.path.join(
            self.s.dir, "at.pdf"), "--all", user=d)
        login = self.s.ctl_json("search", user=d)[0]["login"]
        # As if the parent had come to the guichet.
        self.s.psql("update accounts set state = 'attente', email ="
                    " 'anne.attente@example.fr' where login = '%s'" % login)
        t = self.ecadm("address", {"ECADM_USER": d, "ECADM_PASSWORD":
                                   self.s.users[d]}, width=120, height=40)
        t.wait_for("En cours d'activation")
        t.keys("E")
        t.wait_for("Renvoyer le courriel d'activation de ATTENTE Anne")
        t.keys("Enter")
        t.wait_for("Courriel d'activation renvoyé à anne.attente@example.fr")
        first = self.s.mails(login, "activation")
        self.assertEqual([m[0] for m in first], ["anne.attente@example.fr"])
        t.keys("M")
        t.wait_for("anne.attente@example.fr_")
        for _ in range(len("anne.attente@example.fr")):
            t.keys("BSpace")
        t.text("anne.nouvelle@example.fr")
        t.keys("Enter")
        t.wait_for("un nouveau lien d'activation part à cette adresse")
        t.wait_for("anne.nouvelle@example.fr")
        mails = self.s.mails(login, "activation")
        self.assertEqual(mails[-1][0], "anne.nouvelle@example.fr")
        self.assertNotEqual(mails[-1][1]["token"], first[0][1]["token"])
        t.keys("q")
        self.assertEqual(self.exit_status(), 0)

    def test_reset_from_the_account_card(self):
        S, d = self.school()
        self.s.ctl("notify", "--paper", "--out", os.path.join(
            self.s.dir, "u-reset.pdf"), "--all", user=d)
        row = [r for r in self.s.ctl_json("search", user=d)
               if r["eligible"]][0]
        old = row["password"]
        t = self.logged_in("reset", d)
        t.keys("/")
        t.text(row["login"])
        t.keys("Enter")
        t.wait_for("1 ligne ")
        t.keys("Enter")
        t.wait_for("Fiche du compte " + row["login"])
        screen = t.wait_for(old)
        self.assertIn("Courriers remis", screen)
        t.keys("i")
        t.wait_for("Réinitialiser le mot de passe")
        t.keys("Enter")
        t.wait_for("Document enregistré")
        new = self.s.ctl_json("show", row["login"], user=d)["password"]
        self.assertNotEqual(new, old)
        pdfs = [f for f in os.listdir(self.downloads) if f.endswith(".pdf")]
        self.assertEqual(len(pdfs), 1)
        page = harness.pdf_pages(os.path.join(self.downloads, pdfs[0]))[0]
        self.assertIn(new, page)
        t.keys("Enter")
        screen = t.wait_for(new)
        self.assertNotIn(old, screen)


class TestHelpdesk(TuiCase):
    def test_academy_search_single_account_actions(self):
        rows = self.s.ctl_json("search", "--query", "martin", user="help")
        schools = {r["school"] for r in rows}
        t = self.ecadm("help", {"ECADM_USER": "help",
                                "ECADM_PASSWORD": self.s.users["help"]})
        t.wait_for("Académie")
        t.keys("/")
        t.text("martin")
        t.keys("Enter")
        screen = t.wait_for("%d ligne" % len(rows))
        for uai_ in schools:
            self.assertIn(uai_, screen)
        t.keys("n")
        t.wait_for("réservée aux directeurs")
        t.keys("l")
        t.wait_for("réservée aux directeurs")
        t.keys("q")
        self.assertEqual(self.exit_status(), 0)


class TestStateScreen(TuiCase):
    def test_counts_equal_ecadmctl_stats(self):
        S, d = self.school()
        self.s.ctl("notify", "--paper", "--out", os.path.join(
            self.s.dir, "u-state.pdf"), "--class", "CE1", user=d)
        stats = self.s.ctl_json("stats", user=d)
        t = self.logged_in("state", d)
        t.keys("2")
        screen = t.wait_for("Notifié et non activé")
        for state in stats["states"]:
            line_ = next(l for l in screen.splitlines()
                         if l.strip().startswith(state["label"]))
            numbers = re.findall(r"(?<![\d,.%])(\d+)(?![\d,.%])",
                                 line_[len(state["label"]) + 1:])
            self.assertIn(str(state["count"]), numbers, line_)
        self.assertEqual(stats["notifie"], 4)


def states_table():
    """The rows of common/states.def: code, label, short label."""
    with open(os.path.join(harness.ROOT, "common", "states.def")) as f:
        return re.findall(r'^STATE\(\w+,\s*"(\w+)",\s*"([^"]+)",\s*'
                          r'"([^"]+)"', f.read(), flags=re.M)


class TestStatesEverywhere(TuiCase):
    def test_each_state_has_its_label_on_every_side(self):
        """One account in each state of states.def: the server's show,
        ecadmctl's search and card, and ecadm's table, card and État tab
        all say it with the table's words."""
        states = states_table()
        self.assertEqual([c for c, _, _ in states], ["precree", "notifie",
                         "attente", "active", "desactive", "expire"])
        S = uai(3359002)
        self.s.import_rows([line(S, "STP%d" % i, "ÉTAT%d" % i, "Zoé",
                                 "STG%d" % i, "PARENTÉTAT%d" % i, "Lou")
                            for i in range(len(states))], "states.csv")
        d = "dir.states"
        self.s.add_staff(d, "directeur", [S], "Direction États")
        rows = sorted(self.s.ctl_json("search", user=d),
                      key=lambda r: r["guardian"])
        logins = {code: r["login"] for (code, _, _), r in zip(states, rows)}
        self.s.ctl("notify", "--paper", "--out", os.path.join(
            self.s.dir, "states.pdf"), *sum((["--login", l] for c, l in
            logins.items() if c != "precree"), []), user=d)
        q = lambda code: "'%s'" % logins[code]
        self.s.psql("update accounts set letter_at = now() - interval "
                    "'4 months' where login = %s;"
                    "update accounts set state = 'attente' where login in "
                    "(%s, %s);"
                    "update accounts set state = 'active' where login = %s;"
                    "update accounts set state = 'desactive' where "
                    "login = %s;" % (q("expire"), q("attente"), q("active"),
                                     q("active"), q("desactive")))
        search = self.s.ctl("search", user=d).stdout
        for code, label, short in states:
            login = logins[code]
            shown = self.s.ctl_json("show", login, user=d)
            if code != "expire":
                self.assertEqual(shown["state"], code)
                self.assertEqual(shown["state_label"], label)
            else:
                self.assertTrue(shown["expired"])
            row = next(l for l in search.splitlines() if login in l)
            self.assertIn(label, row)
            card = self.s.ctl("show", login, user=d).stdout
            self.assertRegex(card, r"(?m)^État\s+%s" % re.escape(label))
        t = self.logged_in("states", d, width=120, height=40)
        screen = t.wait_for("%d lignes" % len(states))
        for code, label, short in states:
            row = next(l for l in screen.splitlines() if logins[code] in l)
            self.assertIn(label, row)
        # The État tab titles its per-class columns with the short labels
        # of the stored states.
        t.keys("2")
        screen = t.wait_for("Par classe")
        for code, label, short in states[:5]:
            self.assertIn(short, screen)
        t.keys("q")
        self.assertEqual(self.exit_status(), 0)


def eligibility_reasons():
    """Every reason eligibility_reason() can give, read from its latest
    definition in sql/."""
    body = None
    for name in sorted(os.listdir(os.path.join(harness.ROOT, "sql"))):
        with open(os.path.join(harness.ROOT, "sql", name)) as f:
            text = f.read()
        for m in re.finditer(r"function eligibility_reason\(.*?\$\$(.*?)\$\$",
                             text, flags=re.S):
            body = m.group(1)
    # (Since migration 010 each reason starts with its separator.)
    return re.findall(r"then '(?:, )?([^']+)'", body)


class TestAide(TuiCase):
    def test_every_eligibility_reason_is_explained(self):
        reasons = eligibility_reasons()
        self.assertEqual(len(reasons), 6, reasons)
        t = self.logged_in("aide", "dir.a", width=120, height=90)
        t.keys("4")
        screen = t.wait_for("Pourquoi une ligne est grisée")
        for reason in reasons:
            self.assertIn(reason, screen)
        t.keys("q")
        self.assertEqual(self.exit_status(), 0)


class TestSizes(TuiCase):
    def test_80x24_then_120x40(self):
        S, d = self.school()
        self.s.ctl("notify", "--paper", "--out", os.path.join(
            self.s.dir, "u-size.pdf"), "--all", user=d)
        rows = [r for r in self.s.ctl_json("search", user=d)]
        t = self.logged_in("size", d, width=80, height=24)
        screen = t.wait_for("15 lignes")
        lines = screen.splitlines()
        self.assertEqual(len(lines), 24)
        self.assertIn("Direction U", lines[0])
        self.assertIn("1 Responsables", lines[1])
        self.assertTrue(all(len(l) <= 80 for l in lines))
        # The password column is never cut: the first row's is whole.
        self.assertIn(rows[0]["password"], screen)
        self.assertIn("q quitter", screen + "q quitter")
        t.resize(120, 40)
        screen = t.wait_for("Remarque", timeout=5)
        lines = screen.splitlines()
        self.assertEqual(len(lines), 40)
        self.assertIn("15 lignes", screen)
        # All 15 rows now fit, with their e-mail column.
        body = [l for l in lines if l.startswith("[ ]") and
                "Élève" not in l]
        self.assertEqual(len(body), 15)
        for r in rows:
            self.assertIn(r["pupil"], screen)
        t.keys("q")
        self.assertEqual(self.exit_status(), 0)


# Families with long compound surnames and accents, names up to 30
# characters: (surname, children, guardians' first names).
LONG_FAMILIES = [
    ("LEFÈVRE-ŒUVRARD", ["Éloïse", "Zoé"], ["Anne-Sophie", "Jean-Noël"]),
    ("BARTHÉLEMY-SAINT-GERMAIN", ["Noé"], ["Inès", "Gaël"]),
    ("DE LA FONTAINE-MÜLLER", ["Hélène", "Maëlys"], ["Francine"]),
    ("N'DIAYE-ROUSSEAU", ["Aïcha-Fatou"], ["Bérénice", "Amadou"]),
    ("GIRAUD-BOËL", ["Aïssatou", "Anaïs"], ["Frédérique", "Clément"]),
    ("NGUYỄN-STRAẞER", ["Thị Ngọc Ánh"], ["Hương"]),
]


def long_name_school(S, p):
    """A school generated from LONG_FAMILIES: siblings share guardians."""
    rows = []
    for f, (last, children, parents) in enumerate(LONG_FAMILIES):
        for c, first in enumerate(children):
            for g, gfirst in enumerate(parents):
                rows.append(line(S, "%sP%d%d" % (p, f, c), last, first,
                                 "%sG%d%d" % (p, f, g), last, gfirst,
                                 classe="CE2-CM1 bilingue", niveau="CE2"))
    return rows


class TestNarrowNames(TuiCase):
    def test_full_names_at_80x24(self):
        S = uai(3359001)
        self.s.import_rows(long_name_school(S, "LN"), "ln.csv")
        d = "dir.ln"
        self.s.add_staff(d, "directeur", [S], "Direction LN")
        self.s.ctl("notify", "--paper", "--out", os.path.join(
            self.s.dir, "ln.pdf"), "--all", user=d)
        rows = self.s.ctl_json("search", user=d)
        names = {r["pupil"] for r in rows} | {r["guardian"] for r in rows}
        self.assertTrue(any(len(n) == 30 for n in names), names)
        t = self.logged_in("narrow", d, width=80, height=24)
        screens = [t.wait_for("%d lignes" % len(rows))]
        t.keys("PageDown")
        t.keys("PageDown")
        time.sleep(0.5)
        screens.append(t.screen())
        text = "\n".join(screens)
        for screen in screens:
            lines = screen.splitlines()
            self.assertEqual(len(lines), 24)
            self.assertTrue(all(len(l) <= 80 for l in lines))
        # Every name whole, each pupil once on its own line above its
        # guardians, and each guardian's login, password and state.
        for n in names:
            self.assertIn(n, text)
        for r in rows:
            row = next((l for l in text.splitlines()
                        if r["login"] in l and r["guardian"] in l), None)
            self.assertIsNotNone(row, r["login"])
            self.assertIn(r["password"], row)
            self.assertIn("Notifié", row)
            self.assertTrue(row.startswith("[ ]"), row)
        first = screens[0].splitlines()
        heading = [l for l in first if l.startswith("LEFÈVRE-ŒUVRARD ")]
        self.assertEqual([l.split("  ")[0] for l in heading],
                         ["LEFÈVRE-ŒUVRARD Éloïse", "LEFÈVRE-ŒUVRARD Zoé"])
        # Ticking and the count work on the guardians' rows.
        t.keys("Home")
        t.keys("Space")
        t.wait_for("1 cochée")
        t.keys("q")
        self.assertEqual(self.exit_status(), 0)


class TestNoTerminal(TuiCase):
    def test_refused_without_a_terminal(self):
        """Without a terminal, curses would read end-of-file forever and
        ecadm spin deaf to signals: it refuses at once."""
        res = subprocess.run(
            [os.path.join(harness.BUILD, "ecadm"), "--server",
             "127.0.0.1:%d" % self.s.main.port, "--ca",
             os.path.join(self.s.tls, "ca.crt"), "--user", "dir.a"],
            stdin=subprocess.DEVNULL, capture_output=True, text=True,
            env=dict(self.s.env(), ECADM_PASSWORD=self.s.users["dir.a"],
                     TERM="xterm"), timeout=20)
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn("il faut un terminal", res.stderr)
        self.assertIsNone(harness.sanitizer_report(res.stderr))


class TestLostServer(TuiCase):
    def test_server_stopped_mid_session(self):
        d = harness.Daemon(self.s, "tui-lost", harness.free_port()).start()
        self.s.daemons.append(d)
        t = self.ecadm("lost", {"ECADM_USER": "dir.a",
                                "ECADM_PASSWORD": self.s.users["dir.a"]},
                       port=d.port)
        t.wait_for("lignes")
        self.assertEqual(d.stop(), 0)
        screen = t.wait_for("Connexion au serveur perdue")
        self.assertIn("Nouvelle tentative", screen)
        # Still drawn, still answering keys: nothing garbled.
        t.keys("Down")
        self.assertIn("1 Responsables", t.screen())
        d.start()
        screen = t.wait_for("Connexion rétablie", timeout=15)
        self.assertIn("lignes", screen)
        t.keys("q")
        self.assertEqual(self.exit_status(), 0)


class TestAccountCardClosedEarly(TuiCase):
    def test_reply_after_the_card_closed(self):
        """The card's show request is still running when the card is
        closed: its late reply must be dropped, not written into the
        freed card (the ASan run of make check reports it otherwise). The
        server is held back by a lock on the accounts."""
        S, d = self.school()
        logins = [r["login"] for r in self.s.ctl_json("search", user=d)
                  if r["login"]]
        # A login no other one starts with: the text filter keeps one row.
        login = next(l for l in logins
                     if not any(o != l and o.startswith(l) for o in logins))
        t = self.logged_in("card-early", d)
        t.keys("/")
        t.text(login)
        t.keys("Enter")
        t.wait_for("1 ligne ")
        shows = self.s.main.read_log().count(" show ok (")
        lock = subprocess.Popen(
            [os.path.join(harness.pg_bindir(), "psql"), "-X", "-q", "-A",
             "-t", "-v", "ON_ERROR_STOP=1", self.s.database_url()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=self.s.env())
        try:
            lock.stdin.write("begin;\nlock table accounts in access "
                             "exclusive mode;\nselect 'locked';\n")
            lock.stdin.flush()
            self.assertEqual(lock.stdout.readline().strip(), "locked")
            t.keys("Enter")
            t.wait_for("Chargement")
            t.keys("Escape")
            t.wait_for("Fiche du compte", absent=True)
        finally:
            lock.stdin.write("rollback;\n")
            lock.stdin.close()
            lock.wait(10)
            lock.stdout.close()
        deadline = time.time() + 10
        while self.s.main.read_log().count(" show ok (") == shows:
            self.assertLess(time.time(), deadline, "the show never ended")
            time.sleep(0.1)
        time.sleep(0.5)
        with open(self.stderr_file) as f:
            report = harness.sanitizer_report(f.read())
        self.assertIsNone(report, report)
        # Still alive and answering keys.
        t.keys("Down")
        t.wait_for("1 ligne ")
        t.keys("q")
        self.assertEqual(self.exit_status(), 0)


class TestAccountCard(TuiCase):
    def test_same_card_with_the_phone_in_both_clients(self):
        """ecadmctl show and ecadm's card are the same lines (client/card.c),
        the guardian's phone included."""
        TuiCase.number += 1
        n = TuiCase.number
        S = uai(3350000 + n)
        rows = class_school(S, "U%d" % n)
        for r in rows:
            r["resp_telephone"] = "05 56 12 34 %02d" % n
        self.s.import_rows(rows, "u%d.csv" % n)
        d = "dir.u%d" % n
        self.s.add_staff(d, "directeur", [S], "Direction U%d" % n)
        logins = [r["login"] for r in self.s.ctl_json("search", user=d)
                  if r["login"]]
        login = next(l for l in logins
                     if not any(o != l and o.startswith(l) for o in logins))
        res = self.s.ctl("show", login, user=d)
        self.assertEqual(res.returncode, 0, res.stderr)
        head = res.stdout.split("\n\n")[0].splitlines()
        self.assertIn("Téléphone        05 56 12 34 %02d" % n, head)
        self.assertIn("État             Non notifié", head)
        t = self.logged_in("card-phone", d)
        t.keys("/")
        t.text(login)
        t.keys("Enter")
        t.wait_for("1 ligne ")
        t.keys("Enter")
        screen = t.wait_for("05 56 12 34 %02d" % n)
        for text in head:
            self.assertIn(text, screen)
        t.keys("Escape")
        t.keys("q")
        self.assertEqual(self.exit_status(), 0)


class TestSessionFd(TuiCase):
    """ecadm as ecadm-sshd runs it: the session token on a descriptor
    (ECADM_SESSION_FD), no login screen, and an end of the session that
    ends ecadm with a French message; documents fetched with scp."""

    HINT = "scp -P 2222 %s@gw.example.fr:"

    def token_file(self, name, token):
        path = os.path.join(self.s.dir, name + ".token")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        return path

    def login_token(self, user):
        """A session opened over the protocol, as ecadm-sshd does."""
        c = self.s.connect()
        try:
            c.hello()
            r = c.login(user, self.s.users[user])
            self.assertTrue(r["ok"], r)
            return r["result"]["token"]
        finally:
            c.close()

    def handed_over(self, name, token, env=None, width=100, height=30,
                    port=None):
        """ecadm started the way ecadm-sshd starts it; its stderr (kept in
        self.stderr_file) and then its exit status stay on the screen."""
        e = self.terminal_env(name, env, port)
        path = self.token_file(name, token)
        self.stderr_file = os.path.join(self.s.dir, name + ".stderr")
        t = Tmux(self.s, name, "sh -c %s" % shlex.quote(
            "exec 3<%s; ECADM_SESSION_FD=3 %s 2>%s; s=$?; cat %s; "
            "echo \"status=$s\"; sleep 60" % (
                shlex.quote(path), os.path.join(harness.BUILD, "ecadm"),
                shlex.quote(self.stderr_file),
                shlex.quote(self.stderr_file))),
            e, width, height)
        self.addCleanup(t.close)
        return t

    def ecadm_pid(self, t):
        ecadm = [p for p in t.descendants()
                 if os.path.basename(os.readlink("/proc/%d/exe" % p)) ==
                 "ecadm"]
        self.assertEqual(len(ecadm), 1, ecadm)
        return ecadm[0]

    def exited(self, t, status):
        """ecadm quit with that status (no sanitizer report); the
        screen."""
        screen = t.wait_for("status=")
        with open(self.stderr_file) as f:
            report = harness.sanitizer_report(f.read())
        self.assertIsNone(report, report)
        self.assertIn("status=%d" % status, screen)
        return screen

    def ended(self, t, message):
        """ecadm quit with status 1, the message and the advice left on
        the terminal it gave back."""
        screen = self.exited(t, 1)
        text = " ".join(screen.split())
        self.assertIn(message + " Reconnectez-vous avec ssh.", text)
        # The terminal was given back: no frame left.
        self.assertNotIn("1 Responsables", screen)
        return screen

    def test_session_resumed_without_login_screen(self):
        S, d = self.school()
        token = self.login_token(d)
        t = self.handed_over("fd-open", token)
        screens = []
        deadline = time.time() + 20
        while time.time() < deadline:
            screens.append(t.screen())
            if "15 lignes" in screens[-1]:
                break
            time.sleep(0.05)
        screen = screens[-1]
        self.assertIn("15 lignes", screen)
        self.assertIn("Direction U", screen.splitlines()[0])
        self.assertIn(S, screen.splitlines()[0])
        self.assertIn("1 Responsables", screen)
        for seen in screens:
            self.assertNotIn("Identifiant  :", seen)
            self.assertNotIn("Mot de passe :", seen)
            self.assertNotIn(token, seen)
        # The token is in none of ecadm's arguments, environment or open
        # files, nor anywhere ps shows.
        pid = self.ecadm_pid(t)
        for what in ("cmdline", "environ"):
            with open("/proc/%d/%s" % (pid, what), "rb") as f:
                self.assertNotIn(token.encode(), f.read())
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            self.assertFalse(target.endswith(".token"), target)
        ps = subprocess.run(["ps", "-eww", "-o", "args"], check=True,
                            capture_output=True, text=True).stdout
        self.assertNotIn(token, ps)
        # The tabs work as after a login; q quits with status 0.
        t.keys("2")
        t.wait_for("Notifié et non activé")
        t.keys("q")
        self.exited(t, 0)

    def test_unknown_token_ends_ecadm(self):
        t = self.handed_over("fd-bad", os.urandom(32).hex())
        screen = self.ended(t, "Session expirée : reconnectez-vous.")
        self.assertNotIn("Identifiant  :", screen)

    def test_malformed_token_ends_ecadm(self):
        t = self.handed_over("fd-garbage", "not a token")
        self.ended(t, "jeton de session invalide.")

    def test_disabled_staff_ends_ecadm(self):
        S, d = self.school()
        t = self.handed_over("fd-disabled", self.login_token(d))
        t.wait_for("15 lignes")
        res = self.s.ctl("staff", "disable", d, user="admin")
        self.assertEqual(res.returncode, 0, res.stderr)
        t.keys("r")                 # search again: the server says no
        self.ended(t, "Session expirée : reconnectez-vous.")

    def test_lost_server_resumes_the_handed_over_session(self):
        d = harness.Daemon(self.s, "tui-fd-lost", harness.free_port()).start()
        self.s.daemons.append(d)
        token = self.login_token("dir.a")
        t = self.handed_over("fd-lost", token, port=d.port)
        t.wait_for("lignes")
        self.assertEqual(d.stop(), 0)
        t.wait_for("Connexion au serveur perdue")
        d.start()
        screen = t.wait_for("Connexion rétablie", timeout=15)
        self.assertIn("lignes", screen)
        self.assertNotIn("Identifiant  :", screen)
        # The resumed session answers.
        t.keys("2")
        t.wait_for("Par classe")
        t.keys("q")
        self.exited(t, 0)

    def test_document_fetched_with_scp(self):
        S, d = self.school()
        hint = self.HINT % d
        t = self.handed_over("fd-scp", self.login_token(d), {
            "ECADM_DOWNLOAD_HINT": hint, "ECADM_DOWNLOAD_DAYS": "7"},
            width=80, height=24)
        t.wait_for("15 lignes")
        t.keys("n")
        t.wait_for("Courriel : à l'adresse")
        t.keys("Enter")             # Papier: the row's account
        t.wait_for("sera notifié")
        t.keys("Enter")
        screen = t.wait_for("(ou sftp ; le fichier est gardé 7 jours)")
        pdfs = [f for f in os.listdir(self.downloads) if f.endswith(".pdf")]
        self.assertEqual(len(pdfs), 1)
        path = os.path.join(self.downloads, pdfs[0])
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        command = "%s%s ." % (hint, pdfs[0])
        self.assertGreater(len(command), 74)    # wider than the box
        lines = screen.splitlines()
        self.assertEqual(len(lines), 24)
        self.assertTrue(all(len(l) <= 80 for l in lines), screen)
        self.assertIn("Pour le récupérer sur votre poste :", screen)
        self.assertIn("Document enregistré : %s" % pdfs[0], screen)
        self.assertNotIn(self.downloads, screen)
        # At 80 columns the command is cut into lines, nothing lost.
        inner = "".join(l.split("│")[1] for l in lines if l.count("│") == 2)
        self.assertIn("".join(command.split()), "".join(inner.split()))
        # Wider, it stands whole on its own line.
        t.resize(120, 30)
        screen = t.wait_for(command)
        row = next(l for l in screen.splitlines() if command in l)
        self.assertEqual(row.split("│")[1].strip(), command)
        # The Aide tab says the same.
        t.keys("Enter")
        t.keys("4")
        t.keys("End")
        screen = t.wait_for("(ou sftp ; le fichier est gardé 7 jours)")
        self.assertIn(hint + "FICHIER .", screen)
        self.assertNotIn("ECADM_DOWNLOAD_DIR", screen)
        t.keys("q")
        self.exited(t, 0)


class TestSignals(TuiCase):
    def test_sigterm_and_sighup_give_the_terminal_back(self):
        """Killed by SIGTERM (a shutdown) or SIGHUP (the terminal window
        closed, the SSH session dropped), ecadm leaves the alternate
        screen and the terminal's modes as it found them, then dies of
        the signal. ncurses alone handled SIGTERM (exit status 1) but not
        SIGHUP, which left -icanon -echo and the frame on the screen."""
        for sig in (signal.SIGTERM, signal.SIGHUP):
            with self.subTest(signal=sig.name):
                self.check_signal(sig)

    def check_signal(self, sig):
        name = sig.name.lower()
        stty = os.path.join(self.s.dir, name + ".stty")
        t = self.ecadm(name, {"ECADM_USER": "dir.a",
                              "ECADM_PASSWORD": self.s.users["dir.a"]},
                       after="; stty -a >%s" % stty)
        t.wait_for("lignes")
        sh = t.pane_pid()
        ecadm = [int(p) for p in os.listdir("/proc") if p.isdigit() and
                 self.parent(int(p)) == sh]
        self.assertEqual(len(ecadm), 1, ecadm)
        os.kill(ecadm[0], sig)
        self.assertEqual(self.exit_status(), 128 + sig)
        deadline = time.time() + 10
        while not (os.path.exists(stty) and os.path.getsize(stty) > 0):
            self.assertLess(time.time(), deadline, "no stty -a output")
            time.sleep(0.1)
        with open(stty) as f:
            modes = f.read().split()
        # Canonical mode and echo again: the shell's terminal, not
        # ncurses' cbreak/noecho one.
        for mode in ("icanon", "echo", "icrnl"):
            self.assertIn(mode, modes, " ".join(modes))
        # The alternate screen was left: ecadm's frame is gone.
        screen = t.screen()
        self.assertNotIn("Responsables", screen)
        self.assertNotIn("lignes", screen)

    @staticmethod
    def parent(pid):
        try:
            with open("/proc/%d/stat" % pid) as f:
                return int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            return None


if __name__ == "__main__":
    unittest.main()
