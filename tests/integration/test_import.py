"""The ONDE import and the domain rules it enforces (DESIGN.md §3, §4,
§6): eligibility and its reasons, one account per guardian across the
academy, snapshot semantics per school, encodings and quoting, errors
named by line with nothing written, logins, and the state machine held by
the database even against plain SQL.

Each test imports its own schools (the file is the truth only for the
schools it names), with pupil and guardian ids of its own."""

import hashlib
import json
import os
import unittest

import harness

from harness import COLUMNS, csv_text, line, quote, uai  # noqa: F401


class ImportCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()

    def write(self, name, text, encoding="utf-8"):
        path = os.path.join(self.s.dir, name)
        with open(path, "wb") as f:
            f.write(text.encode(encoding))
        return path

    def imp(self, rows_or_text, name="import.csv", *extra, encoding="utf-8",
            expect=0):
        text = rows_or_text if isinstance(rows_or_text, str) \
            else csv_text(rows_or_text)
        path = self.write(name, text, encoding)
        res = self.s.ctl("import", path, *extra, user="admin", json=True)
        self.assertEqual(res.returncode, expect, res.stderr)
        return json.loads(res.stdout) if expect == 0 else res

    def rows(self, school, user="help"):
        return self.s.ctl_json("--school", school, "search", user=user)

    def count(self, sql):
        return int(self.s.psql(sql)[1])


class TestEligibility(ImportCase):
    def test_every_reason_and_who_gets_an_account(self):
        S = uai(3310001)
        rows = [
            line(S, "T1P1", "OK", "Ana", "T1G1", "OK", "Gaëlle"),
            line(S, "T1P2", "PROV", "Ben", "T1G2", "PROV", "Paul",
                 statut="admis_provisoire"),
            line(S, "T1P3", "INSC", "Cid", "T1G3", "INSC", "Irène",
                 statut="inscrit"),
            line(S, "T1P4", "SANSINE", "Dan", "T1G4", "SANSINE", "Inès",
                 ine=""),
            line(S, "T1P5", "SANSCLASSE", "Eve", "T1G5", "SANSCLASSE",
                 "Carl", classe=""),
            line(S, "T1P6", "LEGAL", "Fay", "T1G6", "LEGAL", "Lise"),
            line(S, "T1P6", "LEGAL", "Fay", "T1G7", "BEAUPARENT", "Noé",
                 legal="non"),
            line(S, "T1P8", "SEUL", "Gil"),
        ]
        out = self.imp(rows)
        self.assertEqual(out["accounts"]["created"], 2)
        got = {(r["pupil_id"], r["guardian_id"]): r for r in self.rows(S)}
        want = {
            ("T1P1", "T1G1"): None,
            ("T1P2", "T1G2"): "admission provisoire",
            ("T1P3", "T1G3"): "inscrit, non admis",
            ("T1P4", "T1G4"): "INE manquant",
            ("T1P5", "T1G5"): "non réparti dans une classe",
            ("T1P6", "T1G6"): None,
            ("T1P6", "T1G7"): "pas responsable légal",
            ("T1P8", None): "aucun responsable connu",
        }
        self.assertEqual(set(got), set(want))
        for key, reason in want.items():
            row = got[key]
            self.assertEqual(row["reason"], reason, key)
            self.assertEqual(row["eligible"], reason is None, key)
            # Only an eligible guardian gets an account, pre-created.
            if reason is None:
                self.assertEqual(row["state"], "precree", key)
                self.assertIsNotNone(row["login"], key)
            else:
                self.assertIsNone(row["login"], key)
                self.assertIsNone(row["state"], key)

    def test_several_reasons_are_all_given(self):
        S = uai(3310002)
        self.imp([line(S, "T2P1", "MULTI", "Ana", "T2G1", "MULTI", "Rémi",
                       statut="admis_provisoire", ine="", classe="")])
        row = self.rows(S)[0]
        self.assertEqual(row["reason"], "admission provisoire, INE manquant, "
                         "non réparti dans une classe")


class TestOneAccountPerGuardian(ImportCase):
    def test_siblings_share_one_account(self):
        S = uai(3310003)
        out = self.imp([
            line(S, "T3P1", "FRATRIE", "Aïcha", "T3G1", "FRATRIE", "Sophie"),
            line(S, "T3P2", "FRATRIE", "Bruno", "T3G1", "FRATRIE", "Sophie",
                 classe="CE1", niveau="CE1"),
            line(S, "T3P3", "FRATRIE", "Chloé", "T3G1", "FRATRIE", "Sophie",
                 classe="", niveau=""),
        ])
        self.assertEqual(out["accounts"]["created"], 1)
        rows = self.rows(S)
        self.assertEqual(len({r["login"] for r in rows}), 1)
        # Shown on the row of the child without a class too.
        self.assertTrue(all(r["login"] for r in rows))
        self.assertEqual(self.count(
            "select count(*) from accounts a join guardians g on"
            " g.id = a.guardian_id where g.onde_id = 'T3G1'"), 1)

    def test_guardian_with_children_in_two_schools(self):
        X, Y = uai(3310004), uai(3310005)
        self.imp([
            line(X, "T4P1", "DEUXECOLES", "Léo", "T4G1", "DEUXECOLES", "Ana"),
            line(Y, "T4P2", "DEUXECOLES", "Mia", "T4G1", "DEUXECOLES", "Ana",
                 classe="PS", niveau="PS"),
        ])
        self.s.add_staff("dir.t4x", "directeur", [X], "Directeur X")
        self.s.add_staff("dir.t4y", "directeur", [Y], "Directeur Y")
        in_x = self.s.ctl_json("search", user="dir.t4x")
        in_y = self.s.ctl_json("search", user="dir.t4y")
        self.assertEqual([r["pupil_id"] for r in in_x], ["T4P1"])
        self.assertEqual([r["pupil_id"] for r in in_y], ["T4P2"])
        self.assertEqual(in_x[0]["login"], in_y[0]["login"])
        # Both directors count it.
        for user in ("dir.t4x", "dir.t4y"):
            self.assertEqual(self.s.ctl_json("stats", user=user)["precree"], 1)

    def test_guardian_in_two_schools_imported_separately(self):
        X, Y = uai(3310006), uai(3310007)
        self.imp([line(X, "T5P1", "SEPARE", "Léo", "T5G1", "SEPARE", "Ugo")])
        login = self.rows(X)[0]["login"]
        self.imp([line(Y, "T5P2", "SEPARE", "Mia", "T5G1", "SEPARE", "Ugo")])
        self.assertEqual(self.rows(Y)[0]["login"], login)
        # X's file, imported again, does not touch Y's pupil.
        out = self.imp([line(X, "T5P1", "SEPARE", "Léo", "T5G1", "SEPARE",
                             "Ugo")])
        self.assertFalse(out["changed"])
        self.assertEqual(len(self.rows(Y)), 1)


class TestSnapshot(ImportCase):
    def test_reimporting_the_same_file_changes_nothing(self):
        S = uai(3310008)
        rows = [line(S, "T6P%d" % i, "NOOP", "Enfant", "T6G%d" % i, "NOOP",
                     "Parent") for i in range(5)]
        first = self.imp(rows)
        self.assertTrue(first["changed"])
        events = self.count("select count(*) from events")
        again = self.imp(rows)
        self.assertFalse(again["changed"])
        self.assertEqual(again["pupils"]["unchanged"], 5)
        self.assertEqual(again["guardians"]["unchanged"], 5)
        self.assertEqual(again["links"]["unchanged"], 5)
        self.assertEqual(again["accounts"], {"created": 0, "deactivated": 0,
                                             "reactivated": 0})
        # Only the import's own event is new.
        self.assertEqual(self.count("select count(*) from events"),
                         events + 1)
        res = self.s.ctl("import", self.write("noop.csv", csv_text(rows)),
                         user="admin")
        self.assertIn("Aucun changement", res.stdout)

    def test_unchanged_school_is_left_out_of_the_merge(self):
        # Migration 011: a school whose lines are those of its last import
        # is not compared again; the counts still tell the whole file.
        A, B = uai(3310021), uai(3310022)
        rows = [line(S, "T8%sP%d" % (S[-2:], i), "PRINT", "Enfant",
                     "T8%sG%d" % (S[-2:], i), "PRINT", "Parent")
                for S in (A, B) for i in range(3)]
        self.imp(rows)
        # A change made behind the import's back, in each school.
        self.s.psql("update pupils set first_name = 'Retouche' where"
                    " onde_id in ('T8%sP0', 'T8%sP0')" % (A[-2:], B[-2:]))
        # B's file changes (another pupil's name), A's does not.
        changed = [dict(r) for r in rows]
        changed[4]["prenom_eleve"] = "Nouveau"
        out = self.imp(changed)
        self.assertEqual(out["schools"]["total"], 2)
        self.assertEqual((out["pupils"]["total"], out["pupils"]["updated"],
                          out["pupils"]["unchanged"]), (6, 2, 4))
        self.assertEqual(out["links"]["unchanged"], 6)
        names = dict(line.split("|") for line in self.s.psql(
            "select onde_id, first_name from pupils where last_name ="
            " 'PRINT'")[1].splitlines())
        # B was merged: the file's names, the touch-up undone.
        self.assertEqual(names["T8%sP1" % B[-2:]], "Nouveau")
        self.assertEqual(names["T8%sP0" % B[-2:]], "Enfant")
        # A was left out: not even compared.
        self.assertEqual(names["T8%sP0" % A[-2:]], "Retouche")
        # A migration that changes the merge clears the prints: the next
        # import compares every school again.
        self.s.psql("update schools set import_print = null")
        out = self.imp(changed)
        self.assertEqual(out["pupils"]["updated"], 1)
        self.assertEqual(self.s.psql(
            "select first_name from pupils where onde_id = 'T8%sP0'"
            % A[-2:])[1], "Enfant")

    def test_pupil_leaving_deactivates_and_returning_recreates(self):
        S = uai(3310009)
        stay = line(S, "T7P1", "RESTE", "Ana", "T7G1", "RESTE", "Paul")
        leave = line(S, "T7P2", "PART", "Ben", "T7G2", "PART", "Zoé")
        self.imp([stay, leave])
        login = {r["pupil_id"]: r["login"] for r in self.rows(S)}["T7P2"]
        out = self.imp([stay])
        self.assertEqual(out["pupils"]["left"], 1)
        self.assertEqual(out["accounts"]["deactivated"], 1)
        self.assertEqual([r["pupil_id"] for r in self.rows(S)], ["T7P1"])
        _, state, _ = self.s.psql("select state from accounts where login"
                                  " = '%s'" % login)
        self.assertEqual(state, "desactive")
        out = self.imp([stay, leave])
        self.assertEqual(out["accounts"]["reactivated"], 1)
        self.assertEqual(out["accounts"]["created"], 0)
        row = {r["pupil_id"]: r for r in self.rows(S)}["T7P2"]
        self.assertEqual((row["login"], row["state"]), (login, "precree"))
        # Every transition left its event, with the school named.
        _, trail, _ = self.s.psql(
            "select string_agg(coalesce(from_state, '-') || '>' || to_state"
            " || ':' || action || ':' || (school_id is not null)::text, ','"
            " order by e.id) from events e join accounts a on"
            " a.id = e.account_id where a.login = '%s'" % login)
        self.assertEqual(trail, "->precree:create:true,"
                         "precree>desactive:deactivate:true,"
                         "desactive>precree:reactivate:true")

    def test_losing_eligibility_deactivates_regaining_reactivates(self):
        S = uai(3310010)
        ok = line(S, "T8P1", "STATUT", "Ana", "T8G1", "STATUT", "Paul")
        self.imp([ok])
        out = self.imp([dict(ok, statut="admis_provisoire")])
        self.assertEqual(out["accounts"]["deactivated"], 1)
        self.assertEqual(out["pupils"]["updated"], 1)
        out = self.imp([ok])
        self.assertEqual(out["accounts"]["reactivated"], 1)

    def test_eligible_through_another_child_stays(self):
        S = uai(3310011)
        a = line(S, "T9P1", "DEUX", "Ana", "T9G1", "DEUX", "Ève")
        b = line(S, "T9P2", "DEUX", "Ben", "T9G1", "DEUX", "Ève")
        self.imp([a, b])
        out = self.imp([a])
        self.assertEqual(out["pupils"]["left"], 1)
        self.assertEqual(out["accounts"]["deactivated"], 0)
        self.assertEqual(self.rows(S)[0]["state"], "precree")

    def test_dry_run_writes_nothing(self):
        S = uai(3310012)
        before = self.count("select count(*) from pupils")
        out = self.imp([line(S, "T10P1", "SIMU", "Ana", "T10G1", "SIMU",
                             "Paul")], "dry.csv", "--dry-run")
        self.assertTrue(out["dry_run"])
        self.assertEqual(out["pupils"]["created"], 1)
        self.assertEqual(out["accounts"]["created"], 1)
        self.assertEqual(self.count("select count(*) from pupils"), before)
        self.assertEqual(self.count("select count(*) from schools where"
                                    " uai = '%s'" % S), 0)


class TestFileFormat(ImportCase):
    NAMES = [("ŒUVRARD-LÉVÊQUE", "Éloïse"), ("MÜLLER", "Anaïs"),
             ("FRANÇOIS", "Gaëlle")]

    def rows_for(self, S, prefix):
        return [line(S, "%sP%d" % (prefix, i), last, first,
                     "%sG%d" % (prefix, i), last, "Maëlle")
                for i, (last, first) in enumerate(self.NAMES)]

    def test_windows_1252_and_bom_give_the_same_names(self):
        S = uai(3310013)
        rows = self.rows_for(S, "T11")
        out = self.imp(csv_text(rows), "cp1252.csv", encoding="cp1252")
        self.assertEqual(out["encoding"], "Windows-1252")
        names = sorted(r["pupil"] for r in self.rows(S))
        self.assertEqual(names, sorted("%s %s" % n for n in self.NAMES))
        out = self.imp(csv_text(rows), "bom.csv", encoding="utf-8-sig")
        self.assertEqual(out["encoding"], "UTF-8 (BOM)")
        self.assertFalse(out["changed"])
        out = self.imp(csv_text(rows, eol="\n"), "lf.csv")
        self.assertEqual(out["encoding"], "UTF-8")
        self.assertFalse(out["changed"])

    def test_quoted_fields_with_separator_and_quotes(self):
        S = uai(3310014)
        self.imp([line(S, "T12P1", "D'ALMEIDA; DIT \"LE GRAND\"", "Jean",
                       "T12G1", "N'DIAYE", "Awa \"Mama\"")])
        row = self.rows(S)[0]
        self.assertEqual(row["pupil"], 'D\'ALMEIDA; DIT "LE GRAND" Jean')
        self.assertEqual(row["guardian"], 'N\'DIAYE Awa "Mama"')

    def test_header_in_any_case_and_order_unknown_columns_ignored(self):
        S = uai(3310015)
        cols = ["Resp_Legal", "NOM_ELEVE", "commentaire"] + [
            c.upper() for c in COLUMNS if c not in ("resp_legal", "nom_eleve")]
        rows = [dict(line(S, "T13P1", "ORDRE", "Ana", "T13G1", "ORDRE", "Lou"),
                     commentaire="ignoré; vraiment")]
        text = ";".join(cols) + "\n" + ";".join(
            quote(rows[0].get(c.lower(), "")) for c in cols) + "\n"
        out = self.imp(text)
        self.assertEqual(out["pupils"]["created"], 1)
        self.assertEqual(self.rows(S)[0]["pupil"], "ORDRE Ana")


class TestBadFiles(ImportCase):
    def test_each_bad_value_is_named_by_line_and_nothing_is_written(self):
        S = uai(3310016)
        good = line(S, "T14P1", "BON", "Ana", "T14G1", "BON", "Paul")
        rows = [
            good,
            dict(line(S, "T14P2", "UAI", "Ben"), uai=S[:7] + (
                "A" if S[7] != "A" else "B")),
            line(S, "T14P3", "DATE", "Cid", born="31/02/2019"),
            line(S, "T14P4", "INE", "Dan", ine="12345"),
            line(S, "T14P5", "STATUT", "Eve", statut="admis"),
            good,
        ]
        pupils = self.count("select count(*) from pupils")
        events = self.count("select count(*) from events")
        res = self.imp(rows, "bad.csv", expect=1)
        self.assertIn("E_INVALID", res.stderr)
        self.assertIn("rien n'a été importé", res.stderr)
        for text in ("ligne 3, colonne uai : UAI invalide (lettre de "
                     "contrôle incorrecte)",
                     "ligne 4, colonne date_naissance : date impossible",
                     "ligne 5, colonne ine : INE mal formé",
                     "ligne 6, colonne statut : statut inconnu « admis »"):
            self.assertIn(text, res.stderr)
        self.assertNotIn("ligne 2,", res.stderr)
        self.assertEqual(self.count("select count(*) from pupils"), pupils)
        self.assertEqual(self.count("select count(*) from events"), events)
        self.assertEqual(self.count("select count(*) from schools where"
                                    " uai = '%s'" % S), 0)

    def test_contradictions_between_lines(self):
        S = uai(3310017)
        a = line(S, "T15P1", "CONTRA", "Ana", "T15G1", "CONTRA", "Paul")
        res = self.imp([a, dict(a, prenom_eleve="Autre", resp_id="T15G2"),
                        a], "contra.csv", expect=1)
        self.assertIn("ligne 3, colonne eleve_id : l'élève T15P1 est décrit "
                      "autrement ligne 2", res.stderr)
        self.assertIn("ligne 4, colonne resp_id : lien élève-responsable "
                      "déjà donné ligne 2", res.stderr)

    def test_missing_required_column(self):
        text = "uai;eleve_id;nom_eleve;prenom_eleve;statut\n%s;T16P1;A;B;" \
               "inscrit\n" % uai(3310018)
        res = self.imp(text, "nocol.csv", expect=1)
        self.assertIn("ligne 1, colonne date_naissance : colonne obligatoire "
                      "absente", res.stderr)

    def test_neither_utf8_nor_windows_1252(self):
        path = self.write("binary.csv", "")
        with open(path, "wb") as f:
            f.write(b"uai;eleve_id\n\x81\x8d;x\n")
        res = self.s.ctl("import", path, user="admin")
        self.assertEqual(res.returncode, 1)
        self.assertIn("ligne 2 : octet 0x81", res.stderr)

    def test_only_admin_imports(self):
        path = self.write("dir.csv", csv_text([line(uai(3310019), "T17P1",
                                                    "X", "Y")]))
        res = self.s.ctl("import", path, user="dir.a")
        self.assertEqual(res.returncode, 1)
        self.assertIn("E_FORBIDDEN", res.stderr)
        # The refused upload is read to its end: the connection goes on.
        c = self.s.connect()
        c.hello()
        c.login("dir.a", self.s.users["dir.a"])
        data = b"x" * 700000
        c.send({"id": 9, "op": "import", "args": {}, "blob": {
            "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}})
        for i in range(0, len(data), 262144):
            chunk = data[i:i + 262144]
            c.send_raw(len(chunk).to_bytes(4, "big") + chunk)
        self.assertEqual(c.recv()["error"]["code"], "E_FORBIDDEN")
        self.assertTrue(c.call("whoami")["ok"])
        c.close()


class TestLogins(ImportCase):
    def test_login_folding(self):
        S = uai(3310020)
        people = [
            ("LEFÈVRE-ŒUVRARD", "Quitterie", "q.lefevre-oeuvrard1"),
            # First names no other test gives a STRAẞER: the numbers
            # count every login with that base in the shared database.
            ("STRAẞER", "Ysolde", "y.strasser1"),
            ("Straßer", "Yseult", "y.strasser2"),
            ("NGUYỄN", "Xuân", "x.nguyen1"),
            ("D'ALMEIDA", "Wanda", "w.dalmeida1"),
            ("DE LA FONTAINE", "Zoé", "z.delafontaine1"),
            ("DE LA FONTAINE", "Zélie", "z.delafontaine2"),
            ("ÆLIS", "Ulysse", "u.aelis1"),
            ("MONTGOMERY-DE-LA-ROCHEFOUCAULD", "Quentin",
             "q.montgomery-de-la-roc1"),
            ("ÇELIK", "Ömer", "o.celik1"),
        ]
        rows = [line(S, "T18P%d" % i, "ENFANT", "Kid", "T18G%d" % i, last,
                     first) for i, (last, first, _) in enumerate(people)]
        self.imp(rows)
        got = {r["guardian_id"]: r["login"] for r in self.rows(S)}
        for i, (_, _, login) in enumerate(people):
            self.assertEqual(got["T18G%d" % i], login)
        # Stable once given: a new spelling of the name keeps the login.
        rows[0] = dict(rows[0], resp_nom="LEFEVRE")
        self.imp(rows)
        got = {r["guardian_id"]: r["login"] for r in self.rows(S)}
        self.assertEqual(got["T18G0"], "q.lefevre-oeuvrard1")


class TestStateMachineInDatabase(ImportCase):
    def setUp(self):
        S = uai(3310021)
        self.imp([line(S, "T19P1", "SQL", "Ana", "T19G1", "SQL", "Paul")])
        self.login = self.rows(S)[0]["login"]

    def test_illegal_transition_refused_from_plain_sql(self):
        for target in ("active", "attente", "notifie'; --"):
            rc, _, err = self.s.psql(
                "update accounts set state = '%s' where login = '%s'" % (
                    target.replace("'", "''"), self.login), check=False)
            self.assertNotEqual(rc, 0)
        rc, _, err = self.s.psql("update accounts set state = 'active' "
                                 "where login = '%s'" % self.login,
                                 check=False)
        self.assertIn("changement d'état precree -> active refusé", err)
        rc, _, err = self.s.psql(
            "insert into accounts (guardian_id, login, state) select id,"
            " 'x.forged1', 'active' from guardians limit 1", check=False)
        self.assertNotEqual(rc, 0)
        rc, _, err = self.s.psql("delete from accounts where login = '%s'" %
                                 self.login, check=False)
        self.assertIn("ne se supprime pas", err)
        _, state, _ = self.s.psql("select state from accounts where login ="
                                  " '%s'" % self.login)
        self.assertEqual(state, "precree")

    def test_orphans_refused_from_plain_sql(self):
        # The statement-level reference checks (sql/002, 012), for one
        # row and for many: a link, a pupil or an account that names
        # nothing is refused, and nothing of the statement stays.
        cases = [
            ("insert into links (pupil_id, guardian_id, legal) select -1,"
             " id, true from guardians limit 1",
             "lien vers un élève inconnu"),
            ("insert into links (pupil_id, guardian_id, legal) select p.id,"
             " -g.id, true from pupils p, guardians g limit 500",
             "lien vers un responsable inconnu"),
            ("insert into pupils (onde_id, school_id, class_id, last_name,"
             " first_name, birth_date, status) select 'T19X' || c.id,"
             " c.school_id + 100000, c.id, 'X', 'Y', '2018-01-01',"
             " 'admis_definitif' from classes c",
             "élève sans école ou classe connue"),
            ("insert into pupils (onde_id, school_id, class_id, last_name,"
             " first_name, birth_date, status) select 'T19Y' || c.id, s.id,"
             " c.id, 'X', 'Y', '2018-01-01', 'admis_definitif' from classes"
             " c join schools s on s.id <> c.school_id limit 1",
             "élève sans école ou classe connue"),
            ("insert into accounts (guardian_id, login) values (-7,"
             " 'x.orphan1')", "compte sans responsable"),
        ]
        before = self.s.psql("select (select count(*) from links),"
                             " (select count(*) from pupils),"
                             " (select count(*) from accounts)")[1]
        for sql, why in cases:
            rc, _, err = self.s.psql(sql, check=False)
            self.assertNotEqual(rc, 0, sql)
            self.assertIn("référence invalide : " + why, err)
        self.assertEqual(before, self.s.psql(
            "select (select count(*) from links), (select count(*) from"
            " pupils), (select count(*) from accounts)")[1])

    def test_legal_sql_transition_is_audited(self):
        self.s.psql("update accounts set state = 'desactive' where login ="
                    " '%s'" % self.login)
        _, ev, _ = self.s.psql(
            "select actor || ':' || channel || ':' || from_state || '>' ||"
            " to_state from events e join accounts a on a.id = e.account_id"
            " where a.login = '%s' order by e.id desc limit 1" % self.login)
        self.assertEqual(ev, "sql:ecadm:sql:precree>desactive")


if __name__ == "__main__":
    unittest.main()
