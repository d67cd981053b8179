"""Documents written by the clients (sheets with provisional passwords,
lists): mode 0600, through a temporary file renamed into place, and never
through a symbolic link someone planted at the output name or at its
temporary name (.tmp): ecadmctl refuses in French, before asking the
server, and the link's target is left as it was."""

import os
import stat
import tempfile
import unittest

import harness


class TestDocumentFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="files-", dir=self.s.dir)
        self.out = os.path.join(self.dir, "liste.csv")
        self.victim = os.path.join(self.dir, "victim.txt")
        with open(self.victim, "w") as f:
            f.write("intact\n")

    def list_to(self, path):
        return self.s.ctl("list", "--out", path, user="dir.a")

    def assert_untouched(self):
        with open(self.victim) as f:
            self.assertEqual(f.read(), "intact\n")

    def test_written_0600_without_leftovers(self):
        res = self.list_to(self.out)
        self.assertEqual(res.returncode, 0, res.stderr)
        st = os.lstat(self.out)
        self.assertTrue(stat.S_ISREG(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(sorted(os.listdir(self.dir)),
                         ["liste.csv", "victim.txt"])

    def test_link_at_the_output_name_is_refused(self):
        os.symlink(self.victim, self.out)
        res = self.list_to(self.out)
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn("lien symbolique", res.stderr)
        self.assertIn("document non enregistré", res.stderr)
        self.assertTrue(os.path.islink(self.out))
        self.assert_untouched()
        self.assertFalse(os.path.lexists(self.out + ".tmp"))

    def test_link_at_the_temporary_name_is_refused(self):
        os.symlink(self.victim, self.out + ".tmp")
        res = self.list_to(self.out)
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn(self.out + ".tmp existe déjà", res.stderr)
        self.assertIn("lien symbolique", res.stderr)
        self.assert_untouched()
        self.assertFalse(os.path.lexists(self.out))
        self.assertTrue(os.path.islink(self.out + ".tmp"))

    def test_dangling_link_at_the_temporary_name_creates_nothing(self):
        # O_CREAT alone would create the link's target.
        target = os.path.join(self.dir, "created-through-the-link")
        os.symlink(target, self.out + ".tmp")
        res = self.list_to(self.out)
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn("existe déjà", res.stderr)
        self.assertFalse(os.path.lexists(target))
        self.assertFalse(os.path.lexists(self.out))

    def test_refused_before_the_notification(self):
        """A sheet that could not be saved would leave accounts notified
        with no letter: the name is checked before the server works."""
        pdf = os.path.join(self.dir, "feuilles.pdf")
        os.symlink(self.victim, pdf)
        login = next(r["login"] for r in self.s.ctl_json("search",
                                                          user="dir.a")
                     if r["login"] and r["eligible"])
        before = self.s.ctl_json("show", login, user="dir.a")
        res = self.s.ctl("notify", "--paper", "--out", pdf, "--login", login,
                         user="dir.a")
        self.assertEqual(res.returncode, 2, res.stderr)
        self.assertIn("lien symbolique", res.stderr)
        self.assert_untouched()
        after = self.s.ctl_json("show", login, user="dir.a")
        self.assertEqual((after["state"], after["letters"]),
                         (before["state"], before["letters"]))


if __name__ == "__main__":
    unittest.main()
