"""The Responsables rows: the fields of DESIGN.md §13, eligibility and its
reasons checked against the extraction the data came from, filters, and
the human table's alignment."""

import csv
import io
import itertools
import unicodedata
import unittest

import harness

FIELDS = {"pupil", "pupil_id", "class", "ine", "guardian", "guardian_id",
          "legal", "login", "state", "password", "email", "eligible",
          "reason"}


def load_csv(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


def expected_reasons(line):
    """The reasons DESIGN.md §3 gives for one line of the extraction."""
    reasons = []
    if line["statut"] == "admis_provisoire":
        reasons.append("admission provisoire")
    elif line["statut"] == "inscrit":
        reasons.append("inscrit, non admis")
    if not line["ine"]:
        reasons.append("INE manquant")
    if not line["classe"]:
        reasons.append("non réparti dans une classe")
    if not line["resp_id"]:
        reasons.append("aucun responsable connu")
    elif line["resp_legal"] != "oui":
        reasons.append("pas responsable légal")
    return reasons


def fold(text):
    """ecadm_fold() for the names gen-onde.py writes: lowercase, without
    accents or ligatures."""
    text = text.lower()
    for a, b in (("œ", "oe"), ("æ", "ae"), ("ß", "ss"), ("đ", "d"),
                 ("ł", "l"), ("ø", "o")):
        text = text.replace(a, b)
    return "".join(ch for ch in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(ch))


class TestSearch(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        cls.rows = cls.s.ctl_json("search", user="dir.a")
        cls.lines = [l for l in load_csv(cls.s.demo_csv)
                     if l["uai"] == harness.SCHOOL_A]

    def test_fields(self):
        for row in self.rows:
            self.assertTrue(FIELDS <= set(row), FIELDS - set(row))
            self.assertIsInstance(row["eligible"], bool)
            self.assertIn(row["state"], (None, "precree", "notifie",
                                         "attente", "active", "desactive"))
            # Nothing is notified yet: no password of any kind.
            self.assertIsNone(row["password"])

    def test_one_row_per_line_of_the_extraction(self):
        self.assertEqual(len(self.rows), len(self.lines))
        got = sorted((r["pupil_id"], r["guardian_id"] or "") for r in self.rows)
        want = sorted((l["eleve_id"], l["resp_id"]) for l in self.lines)
        self.assertEqual(got, want)

    def test_eligibility_and_reasons_match_the_rules(self):
        by_key = {(l["eleve_id"], l["resp_id"]): l for l in self.lines}
        reasons_seen = set()
        for row in self.rows:
            line = by_key[(row["pupil_id"], row["guardian_id"] or "")]
            want = expected_reasons(line)
            self.assertEqual(row["eligible"], not want, (row, line))
            if want:
                self.assertEqual(row["reason"], ", ".join(want), row)
                reasons_seen.update(want)
            else:
                self.assertIsNone(row["reason"])
                # An eligible link always has its account.
                self.assertEqual(row["state"], "precree", row)
                self.assertRegex(row["login"], r"^[a-z]\.[a-z-]+[0-9]+$")
        # The demo school shows every reason to its director.
        self.assertTrue({"admission provisoire", "INE manquant",
                         "non réparti dans une classe",
                         "pas responsable légal"} <= reasons_seen,
                        reasons_seen)

    def test_every_combination_of_reasons(self):
        # eligibility_reason() against the rules, for all 48 combinations
        # of status, INE, class and legal (migration 010 rewrote it).
        _, out, _ = self.s.psql(
            "select s, i is not null, c is not null, coalesce(l::text, ''),"
            " coalesce(eligibility_reason(s, i, c, l), '-') from"
            " (values ('admis_definitif'), ('admis_provisoire'),"
            " ('inscrit'), ('autre')) a(s), (values ('1234567890A'),"
            " (null)) b(i), (values (1), (null)) cc(c), (values (true),"
            " (false), (null::boolean)) d(l) order by 1, 2, 3, 4")
        got = [tuple(line.split("|")) for line in out.splitlines()]
        self.assertEqual(len(got), 48)
        for status, ine, klass, legal, reason in got:
            line = {"statut": status, "ine": ine == "t" and "X",
                    "classe": klass == "t" and "X",
                    "resp_id": legal != "" and "X",
                    "resp_legal": "oui" if legal == "true" else "non"}
            self.assertEqual(reason, ", ".join(expected_reasons(line))
                             or "-", line)

    def test_rows_in_name_order(self):
        # Within a class: pupils by folded surname, first name and id;
        # a pupil's guardians likewise (migration 010's name keys).
        pupils = {l["eleve_id"]: (fold(l["nom_eleve"]),
                                  fold(l["prenom_eleve"]), l["eleve_id"])
                  for l in self.lines}
        guardians = {l["resp_id"]: (fold(l["resp_nom"]),
                                    fold(l["resp_prenom"]), l["resp_id"])
                     for l in self.lines if l["resp_id"]}
        classes = [k for k, _ in itertools.groupby(r["class"]
                                                   for r in self.rows)]
        self.assertEqual(len(classes), len(set(classes)), classes)
        for _, rows in itertools.groupby(self.rows, lambda r: r["class"]):
            rows = list(rows)
            keys = [pupils[r["pupil_id"]] for r in rows]
            self.assertEqual(keys, sorted(keys))
            for _, same in itertools.groupby(rows, lambda r: r["pupil_id"]):
                keys = [guardians[r["guardian_id"]] for r in same
                        if r["guardian_id"]]
                self.assertEqual(keys, sorted(keys))

    def test_account_follows_the_guardian_not_the_row(self):
        # A guardian eligible through one child keeps one login, also shown
        # on the row of an ineligible sibling.
        logins = {}
        for row in self.rows:
            if row["guardian_id"]:
                logins.setdefault(row["guardian_id"], set()).add(row["login"])
        self.assertTrue(all(len(v) == 1 for v in logins.values()))
        shown_on_ineligible = [r for r in self.rows
                               if not r["eligible"] and r["login"]]
        self.assertTrue(shown_on_ineligible)

    def test_class_filter(self):
        classes = self.s.ctl_json("classes", user="dir.a")
        name = classes[0]["name"]
        rows = self.s.ctl_json("search", "--class", name, user="dir.a")
        self.assertEqual(len(rows), sum(1 for l in self.lines
                                        if l["classe"] == name))
        self.assertEqual({r["class"] for r in rows}, {name})
        two = self.s.ctl_json("search", "--class", name, "--class",
                              classes[1]["name"], user="dir.a")
        self.assertEqual({r["class"] for r in two},
                         {name, classes[1]["name"]})

    def test_classes_counts(self):
        classes = self.s.ctl_json("classes", user="dir.a")
        for c in classes:
            pupils = {l["eleve_id"] for l in self.lines
                      if l["classe"] == c["name"]}
            self.assertEqual(c["pupils"], len(pupils), c)

    def test_text_filter_ignores_accents_and_case(self):
        accented = next(r for r in self.rows
                        if any(ch in (r["guardian"] or "") for ch in "éèêëï"))
        folded = accented["guardian"].split()[-1].lower()
        for a, b in (("é", "e"), ("è", "e"), ("ê", "e"), ("ë", "e"),
                     ("ï", "i")):
            folded = folded.replace(a, b)
        rows = self.s.ctl_json("search", "--query", folded.upper(),
                               user="dir.a")
        self.assertIn(accented["guardian_id"], [r["guardian_id"] for r in rows])

    def test_state_and_email_filters(self):
        rows = self.s.ctl_json("search", "--state", "precree", user="dir.a")
        self.assertTrue(rows)
        self.assertEqual({r["state"] for r in rows}, {"precree"})
        self.assertEqual(self.s.ctl_json("search", "--state", "active",
                                         user="dir.a"), [])
        with_email = self.s.ctl_json("search", "--email", "avec",
                                     user="dir.a")
        self.assertTrue(all(r["email"] for r in with_email))
        without = self.s.ctl_json("search", "--email", "sans", user="dir.a")
        self.assertTrue(all(not r["email"] for r in without))
        self.assertEqual(len(with_email) + len(without), len(self.rows))
        res = self.s.ctl("search", "--state", "bogus", user="dir.a")
        self.assertEqual(res.returncode, 1)
        self.assertIn("E_INVALID", res.stderr)

    def test_human_table_aligns_wide_characters(self):
        res = self.s.ctl("search", user="dir.a")
        self.assertEqual(res.returncode, 0, res.stderr)
        lines = res.stdout.splitlines()
        header = lines[0]
        col = header.index("Classe")
        body = lines[1:1 + len(self.rows)]
        self.assertTrue(any(any(ord(ch) > 127 for ch in l[:col]) for l in body))
        # Character counts equal display cells for these scripts, so the
        # class starts at the same character in every line, after the
        # pupil's name padded to the column.
        for line, row in zip(body, self.rows):
            self.assertTrue(line.startswith(row["pupil"]), (line, row))
            self.assertEqual(line[col - 2:col], "  ", line)
            self.assertTrue(line[col:].startswith(row["class"] or "  "),
                            (line, row["class"]))


if __name__ == "__main__":
    unittest.main()
