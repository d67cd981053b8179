"""A parent's first connection in a real browser: Debian's chromium,
headless at a phone's size (390x844), driven by selenium. The school is
notified on paper; the guichet's address is read from the QR code of the
sheet, the login and password from its text; the parent logs in, gives a
wrong birth date once, activates, follows the link of the delivered mail;
then ecadm shows the account activated.

This runs on a stack of its own: the address in the sheets and mails is
ecadmd's [documents] guichet_url, and every ecadmd of a database may
deliver its mail, so all of them must name this test's guichet.

Each page is saved as a PNG under the stack's directory and copied to
/tmp/guichet-shots/ (SHOTS_DIR) for people to look at; the checks that
can be measured (no sideways scrolling, fields the width of their form,
text size, a field's error beside it) are made here too."""

import os
import re
import shutil
import subprocess
import unittest

import harness
from harness import line, uai
import test_tui

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
SHOTS_DIR = os.environ.get("ECADM_SHOTS_DIR", "/tmp/guichet-shots")
WIDTH, HEIGHT = 390, 844

PASSWORD = "Parent2024x"
BORN = "04/09/2019"


def qr_text(png):
    res = subprocess.run(["zbarimg", "--raw", "-q", png],
                         capture_output=True, text=True, check=True)
    return res.stdout.strip()


def sheet_facts(pdf, workdir):
    """(the QR code's address, login, provisional password) of the first
    sheet of a PDF, read as a parent would: the picture and the text."""
    prefix = os.path.join(workdir, "sheet")
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1",
                    pdf, prefix], check=True, capture_output=True)
    png = next(os.path.join(workdir, n) for n in sorted(os.listdir(workdir))
               if n.startswith("sheet") and n.endswith(".png"))
    url = qr_text(png)
    lines = [l.strip() for l in harness.pdf_pages(pdf)[0].splitlines()
             if l.strip()]

    def after(label):
        i = next(i for i, l in enumerate(lines) if l.startswith(label))
        return lines[i + 1].split()[0]
    return url, after("Votre identifiant"), \
        after("Votre mot de passe provisoire")


@unittest.skipUnless(CHROMIUM and CHROMEDRIVER,
                     "chromium and chromium-driver are not installed "
                     "(tools/deps.sh installs them)")
class TestBrowserJourney(test_tui.TuiCase):
    @classmethod
    def setUpClass(cls):
        # Not harness.stack(): see the module's comment.
        cls.s = harness.Stack()
        port = harness.free_port()
        cls.guichet_url = "http://127.0.0.1:%d/" % port
        cls.s.extra_ini = "[documents]\nguichet_url = %s\n" % cls.guichet_url
        try:
            cls.s.setup(demo=False)
            cls.g = harness.Guichet(cls.s, port=port).start()
        except BaseException:
            cls.s.teardown()
            raise
        cls.s.daemons.append(cls.g)

    @classmethod
    def tearDownClass(cls):
        try:
            for d in cls.s.daemons:
                d.stop()
                report = harness.sanitizer_report(d.read_log())
                if report:
                    raise AssertionError("sanitizer report:\n" + report)
        finally:
            cls.s.teardown()

    def setUp(self):
        self.shots = os.path.join(self.s.dir, "shots")
        os.makedirs(self.shots, exist_ok=True)
        shutil.rmtree(SHOTS_DIR, ignore_errors=True)
        os.makedirs(SHOTS_DIR)
        self.shot_number = 0
        self.layout_problems = []

    # -- the browser -----------------------------------------------------
    def start_browser(self):
        # Imported here: with chromium installed, a missing selenium is a
        # missing dependency, not a reason to skip.
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        opts = webdriver.ChromeOptions()
        opts.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--lang=fr-FR",
                    "--user-data-dir=" + os.path.join(self.s.dir, "chromium"),
                    "--window-size=%d,%d" % (WIDTH, HEIGHT)):
            opts.add_argument(arg)
        # A phone: its width, its pixel density, the viewport meta honoured.
        opts.add_experimental_option("mobileEmulation", {
            "deviceMetrics": {"width": WIDTH, "height": HEIGHT,
                              "pixelRatio": 2.0, "mobile": True,
                              "touch": True}})
        service = Service(CHROMEDRIVER, log_path=os.path.join(
            self.s.dir, "chromedriver.log"))
        self.driver = webdriver.Chrome(service=service, options=opts)
        self.addCleanup(self.driver.quit)
        self.driver.set_page_load_timeout(30)
        return self.driver

    def wait_for_title(self, title, timeout=20):
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
        WebDriverWait(self.driver, timeout, ignored_exceptions=(
            StaleElementReferenceException,)).until(
            lambda d: d.find_element(By.TAG_NAME, "h1").text == title,
            "no page titled %r" % title)

    def fill(self, name, value):
        from selenium.webdriver.common.by import By
        field = self.driver.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)

    def submit(self, timeout=20):
        """Send the form and wait for the next page to replace this one
        (it may have the same title: a form sent back with an error)."""
        from selenium.common.exceptions import WebDriverException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait
        # A mark on this document, which the next one does not carry.
        self.driver.execute_script(
            "document.documentElement.dataset.sent = 'yes'")
        self.driver.find_element(By.CSS_SELECTOR,
                                 "form button[type=submit]").click()
        WebDriverWait(self.driver, timeout, ignored_exceptions=(
            WebDriverException,)).until(lambda d: d.execute_script(
                "return document.readyState === 'complete' && "
                "document.documentElement.dataset.sent === undefined"),
            "the form's answer did not come")

    def shot(self, name, scrolled=False):
        """The screen as the parent sees it (from the top, unless
        scrolled), and the whole page when it is longer than the screen."""
        self.shot_number += 1
        base = "%02d-%s" % (self.shot_number, name)
        paths = [os.path.join(self.shots, base + ".png")]
        if not scrolled:
            self.driver.execute_script("window.scrollTo(0, 0)")
        self.assertTrue(self.driver.save_screenshot(paths[0]))
        height = self.driver.execute_script(
            "return document.documentElement.scrollHeight")
        if height > HEIGHT and not scrolled:
            import base64
            data = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": WIDTH, "height": height,
                         "scale": 1}})["data"]
            paths.append(os.path.join(self.shots, base + "-page.png"))
            with open(paths[-1], "wb") as f:
                f.write(base64.b64decode(data))
        for p in paths:
            shutil.copy(p, SHOTS_DIR)

    def check_phone_layout(self):
        """What a phone needs, measured: no sideways scrolling, text of at
        least 16 px, fields and buttons as wide as their form and a
        finger's height, each field's error just above it. Problems are
        gathered and failed on at the end, once every page is saved."""
        d = self.driver
        page = d.find_element("tag name", "h1").text
        bad = self.layout_problems

        def need(ok, what):
            if not ok:
                bad.append("%s: %s" % (page, what))
        width = d.execute_script("return document.documentElement.scrollWidth")
        need(width <= WIDTH, "%d px wide" % width)
        need(d.execute_script("return window.innerWidth") == WIDTH,
             "viewport not the phone's")
        size = float(d.execute_script(
            "return getComputedStyle(document.body).fontSize")[:-2])
        need(size >= 16, "body text %.1f px" % size)
        for form in d.execute_script("""
            return Array.from(document.querySelectorAll('form')).map(f => {
              const cs = getComputedStyle(f);
              const inner = f.clientWidth - parseFloat(cs.paddingLeft)
                            - parseFloat(cs.paddingRight);
              return {inner: inner,
                      fields: Array.from(f.querySelectorAll(
                        'input:not([type=hidden]), button')).map(e => ({
                        name: e.name || e.textContent,
                        width: e.getBoundingClientRect().width,
                        height: e.getBoundingClientRect().height,
                        font: parseFloat(getComputedStyle(e).fontSize)}))};
            })"""):
            for f in form["fields"]:
                need(abs(f["width"] - form["inner"]) <= 1,
                     "%s %.0f px wide in a form of %.0f" % (
                         f["name"], f["width"], form["inner"]))
                need(f["height"] >= 44, "%s %.1f px high" % (f["name"],
                                                              f["height"]))
                # A phone zooms into a field whose text is under 16 px.
                need(f["font"] >= 16, "%s text %.1f px" % (f["name"],
                                                           f["font"]))
        for err in d.execute_script("""
            return Array.from(document.querySelectorAll('.field-error')).map(
              e => {
                const input = document.querySelector(
                  '[aria-describedby~="' + e.id + '"]');
                return {id: e.id, gap: input.getBoundingClientRect().top
                        - e.getBoundingClientRect().bottom};
              })"""):
            need(0 <= err["gap"] < 24, "%s %.0f px from its field" % (
                err["id"], err["gap"]))

    # -- the journey -----------------------------------------------------
    def test_parent_first_connection_on_a_phone(self):
        s = self.s
        S = uai(3391001)
        s.import_rows([
            line(S, "BRP1", "MARTIN", "Léa", "BRG1", "MARTIN", "Hélène",
                 born=BORN, classe="CP", niveau="CP"),
            line(S, "BRP2", "NGUYỄN", "Thảo", "BRG2", "NGUYỄN", "Minh",
                 born="12/03/2018", classe="CE1", niveau="CE1"),
            line(S, "BRP3", "ŒUVRARD", "Éloïse", "BRG3", "ŒUVRARD",
                 "Jean-Baptiste", born="30/11/2017", classe="CE2",
                 niveau="CE2"),
        ], "browser.csv")
        director = "dir.browser"
        s.add_staff(director, "directeur", [S], "Direction Navigateur")
        login = next(r["login"] for r in s.ctl_json("search", user=director)
                     if r["guardian"].startswith("MARTIN Hélène"))

        # The paper sheet, read back as the parent reads it.
        pdf = os.path.join(s.dir, "browser-sheet.pdf")
        res = s.ctl("notify", "--paper", "--out", pdf, "--login", login,
                    user=director)
        self.assertEqual(res.returncode, 0, res.stderr)
        work = os.path.join(s.dir, "sheet")
        os.makedirs(work)
        url, sheet_login, password = sheet_facts(pdf, work)
        self.assertEqual(url, self.guichet_url)
        self.assertEqual(sheet_login, login)
        self.assertIn(self.guichet_url, harness.pdf_pages(pdf)[0])

        from selenium.webdriver.common.by import By
        d = self.start_browser()
        d.get(url)
        self.wait_for_title("Première connexion")
        self.check_phone_layout()
        self.shot("connexion")
        self.fill("identifiant", login)
        self.fill("mot_de_passe", password)
        self.shot("connexion-remplie")
        self.submit()
        self.wait_for_title("Activer votre compte")
        self.assertIn("date de naissance de Léa MARTIN",
                      d.find_element(By.TAG_NAME, "main").text)
        self.check_phone_layout()
        self.shot("activation")

        # A wrong birth date: ecadmd refuses the whole form (E_AUTH, with
        # the tries left): a line above the form, in view, says to look at
        # the fields, and the date's error sits next to the date; the rest
        # is kept.
        email = "helene.martin@example.fr"
        self.fill("nouveau_mot_de_passe", PASSWORD)
        self.fill("confirmation", PASSWORD)
        self.fill("courriel", email)
        self.fill("date_naissance", "01/01/1990")
        self.submit()
        self.wait_for_title("Activer votre compte")
        self.shot("activation-date-fausse")
        alert = d.find_element(By.CSS_SELECTOR, "form [role=alert]")
        self.assertTrue(alert.is_displayed())
        self.assertIn("corrigez les champs signalés", alert.text)
        self.assertLess(alert.rect["y"] + alert.rect["height"], HEIGHT,
                        "the error is not on the first screen")
        error = d.find_element(By.ID, "activation-date_naissance-erreur")
        field = d.find_element(By.NAME, "date_naissance")
        self.assertRegex(error.text, r"^Date de naissance incorrecte\s: il "
                         r"vous reste \d+ essais?\.$")
        # French spacing: the colon never starts a line of its own.
        self.assertIn("incorrecte\xa0:", error.get_attribute("textContent"))
        self.assertIn(error.get_attribute("id"),
                      field.get_attribute("aria-describedby").split())
        self.assertEqual(field.get_attribute("aria-invalid"), "true")
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})",
                         field)
        self.shot("activation-date-fausse-champ", scrolled=True)
        self.assertEqual(d.find_element(By.NAME, "courriel")
                         .get_attribute("value"), email)
        self.assertEqual(d.find_element(By.NAME, "date_naissance")
                         .get_attribute("value"), "01/01/1990")
        # A password is never sent back into a page.
        self.assertEqual(d.find_element(By.NAME, "nouveau_mot_de_passe")
                         .get_attribute("value"), "")
        self.check_phone_layout()

        # A field's own error (the confirmation) sits next to that field.
        self.fill("nouveau_mot_de_passe", PASSWORD)
        self.fill("confirmation", "Autre2024x")
        self.fill("date_naissance", BORN)
        self.submit()
        self.wait_for_title("Activer votre compte")
        error = d.find_element(By.ID, "activation-confirmation-erreur")
        field = d.find_element(By.NAME, "confirmation")
        self.assertTrue(error.text)
        self.assertIn(error.get_attribute("id"),
                      field.get_attribute("aria-describedby").split())
        self.assertEqual(field.get_attribute("aria-invalid"), "true")
        self.check_phone_layout()
        self.shot("activation-confirmation-fausse")
        # As the parent sees it once scrolled to the field.
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})",
                         field)
        self.shot("activation-confirmation-champ", scrolled=True)

        self.fill("nouveau_mot_de_passe", PASSWORD)
        self.fill("confirmation", PASSWORD)
        self.fill("date_naissance", BORN)
        self.submit()
        self.wait_for_title("Vérifiez votre messagerie")
        self.assertIn("Un courriel vous a été envoyé à " + email,
                      d.find_element(By.TAG_NAME, "main").text)
        self.check_phone_layout()
        self.shot("courriel-envoye")

        # The link of the delivered mail, followed in the browser.
        recipient, facts = s.mails(login, "activation")[-1]
        self.assertEqual(recipient, email)
        self.assertTrue(facts["link"].startswith(
            self.guichet_url + "confirmer?jeton="), facts)
        d.get(facts["link"])
        self.wait_for_title("Votre compte est activé")
        self.assertIn("Votre compte est activé",
                      d.find_element(By.TAG_NAME, "main").text)
        self.check_phone_layout()
        self.shot("compte-active")

        # The chosen password opens the account page.
        d.find_element(By.LINK_TEXT, "Se connecter").click()
        self.wait_for_title("Première connexion")
        self.fill("identifiant", login)
        self.fill("mot_de_passe", PASSWORD)
        self.submit()
        self.wait_for_title("Mon compte")
        self.assertIn(email, d.find_element(By.TAG_NAME, "main").text)
        self.check_phone_layout()
        self.shot("mon-compte")

        # The school's side: ecadm shows the account activated, its
        # password hidden.
        t = self.logged_in("browser", director, width=120, height=30)
        screen = t.wait_for("3 lignes")
        with open(os.path.join(SHOTS_DIR, "%02d-ecadm.txt"
                               % (self.shot_number + 1)), "w") as f:
            f.write(screen)
        row = next(l for l in screen.splitlines() if login in l)
        self.assertIn("Activé", row)
        self.assertIn("******", row)
        self.assertNotIn(password, screen)
        t.keys("q")
        self.assertEqual(self.exit_status(), 0)
        self.assertFalse(self.layout_problems, "phone layout:\n" +
                         "\n".join(self.layout_problems))


if __name__ == "__main__":
    unittest.main()
