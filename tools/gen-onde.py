#!/usr/bin/python3
"""gen-onde.py: generate realistic ONDE extractions (DESIGN.md §6).

French names with accents, hyphens and ligatures (and a few names from
elsewhere that only an embedded font prints: Nguyễn, Straßer), siblings who
share their guardians, separated parents with two households, non-legal
step-parents, families with children in two schools, and roughly one pupil
in ten ineligible for each reason (admission, INE, class).

    gen-onde.py [--schools N] [--pupils N] [--seed N] [--encoding E] [-o FILE]

The output is deterministic for a given seed.
"""

import argparse
import random
import sys

UAI_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"

LAST_NAMES = [
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND",
    "DUBOIS", "MOREAU", "LAURENT", "SIMON", "MICHEL", "LEFÈVRE", "LEROY",
    "ROUX", "DAVID", "BERTRAND", "MOREL", "FOURNIER", "GIRARD", "BONNET",
    "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT", "MÜLLER",
    "FAURE", "ANDRÉ", "MERCIER", "BLANC", "GUÉRIN", "BOYER", "GARNIER",
    "CHEVALIER", "FRANÇOIS", "LEGRAND", "GAUTHIER", "GARCIA", "PERRIN",
    "ROBIN", "CLÉMENT", "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU",
    "GAUTIER", "MASSON", "MARCHAND", "DUVAL", "DENIS", "DUMONT", "MARIE",
    "LEMAIRE", "NOËL", "MEYER", "DUFOUR", "MEUNIER", "BRUN", "BLANCHARD",
    "GIRAUD", "JOLY", "RIVIÈRE", "LUCAS", "BRUNET", "GAILLARD", "BARBIER",
    "ARNAUD", "MARTINEZ", "GÉRARD", "ROCHE", "RENARD", "SCHMITT", "ROY",
    "LEROUX", "COLIN", "VIDAL", "CARON", "PICARD", "ROGER", "FABRE",
    "AUBERT", "LEMOINE", "RENAUD", "DUMAS", "LACROIX", "OLIVIER", "PHILIPPE",
    "BOURGEOIS", "PIERRE", "BENOÎT", "REY", "LECLERC", "PAYET", "ROLLAND",
    "LECLERCQ", "GUILLAUME", "LECOMTE", "LOPEZ", "JEAN", "DUPUY", "GUILLOT",
    "HUBERT", "BERGER", "CARPENTIER", "SANCHEZ", "DUPUIS", "MOULIN", "LOUIS",
    "DESCHAMPS", "HUET", "VASSEUR", "PEREZ", "BOUCHER", "FLEURY", "ROYER",
    "KLEIN", "JACQUET", "ADAM", "PARIS", "POIRIER", "MARTY", "AUBRY",
    "GUYOT", "CARRÉ", "CHARLES", "RENAULT", "CHARPENTIER", "MÉNARD",
    "MAILLARD", "BARON", "BERTIN", "BAILLY", "HERVÉ", "SCHNEIDER",
    "FERNANDEZ", "LE GALL", "COLLET", "LÉGER", "BOUVIER", "JULIEN",
    "PRÉVOST", "MILLET", "PERROT", "DANIEL", "LE ROUX", "COUSIN", "GERMAIN",
    "BRETON", "BESSON", "LANGLOIS", "RÉMY", "LE GOFF", "PELLETIER", "LÉVÊQUE",
    "PERRIER", "LEBLANC", "BARRÉ", "LEBRUN", "MARCHAL", "WEBER", "MALLET",
    "HAMON", "BOULANGER", "JACOB", "MONNIER", "MICHAUD", "RODRIGUEZ",
    "GUICHARD", "GILLET", "ÉTIENNE", "GRONDIN", "POULAIN", "TESSIER",
    "CHEVALLIER", "COLLIN", "CHAUVIN", "DA SILVA", "BOUCHET", "GAY",
    "LEMAÎTRE", "BÉNARD", "MARÉCHAL", "HUMBERT", "REYNAUD", "ANTOINE",
    "HOARAU", "PERRET", "BARTHÉLEMY", "CORDIER", "PICHON", "LEJEUNE",
    "GILBERT", "LAMY", "DELAUNAY", "PASQUIER", "CARLIER", "LAPORTE",
    "D'ALMEIDA", "N'DIAYE", "DIALLO", "TRAORÉ", "NGUYỄN", "TRẦN", "LÊ",
    "STRAẞER", "HAßLER", "BENALI", "HADDAD", "KOWALSKI", "ÇELIK",
    "ŒUVRARD", "LEFÈVRE-ŒUVRARD", "MARTIN-DUBOIS", "SAINT-ÉTIENNE",
    "DE LA FONTAINE", "LÆTITIA-ROUX",
]

FIRST_GIRLS = [
    "Emma", "Jade", "Louise", "Alice", "Chloé", "Lina", "Léa", "Rose",
    "Anna", "Mila", "Inès", "Ambre", "Julia", "Mia", "Léna", "Manon",
    "Juliette", "Lou", "Zoé", "Camille", "Agathe", "Jeanne", "Lucie",
    "Éva", "Nina", "Sarah", "Romane", "Inaya", "Charlotte", "Léonie",
    "Romy", "Adèle", "Iris", "Louna", "Margaux", "Victoire", "Capucine",
    "Éloïse", "Maëlle", "Noémie", "Clémence", "Anaïs", "Héloïse", "Zélie",
    "Marie-Ange", "Anne-Sophie", "Thảo", "Aïcha", "Fatoumata", "Gaëlle",
]
FIRST_BOYS = [
    "Gabriel", "Léo", "Raphaël", "Arthur", "Louis", "Jules", "Adam",
    "Maël", "Lucas", "Hugo", "Noah", "Liam", "Gabin", "Sacha", "Paul",
    "Nathan", "Aaron", "Mohamed", "Ethan", "Tom", "Éden", "Léon", "Noé",
    "Tiago", "Théo", "Isaac", "Marius", "Victor", "Ayden", "Martin",
    "Naël", "Mathis", "Axel", "Robin", "Timéo", "Enzo", "Marceau",
    "Valentin", "Nino", "Eliott", "Baptiste", "Côme", "Anatole",
    "Jean-Baptiste", "Pierre-Louis", "Noël", "Joël", "Raphaël", "Minh",
    "Jérôme",
]
ADULT_WOMEN = [
    "Marie", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Sandrine",
    "Stéphanie", "Céline", "Aurélie", "Émilie", "Julie", "Élodie", "Laëtitia",
    "Virginie", "Sophie", "Audrey", "Mélanie", "Caroline", "Hélène", "Claire",
    "Anne-Laure", "Marie-Hélène", "Béatrice", "Françoise", "Gaëlle", "Hương",
]
ADULT_MEN = [
    "Nicolas", "Julien", "Sébastien", "Christophe", "Stéphane", "Frédéric",
    "Olivier", "Laurent", "David", "Jérôme", "Cédric", "Mathieu", "Thomas",
    "Guillaume", "Vincent", "Benoît", "François", "Jean-Michel", "Loïc",
    "Hervé", "Grégory", "Raphaël", "Yannick", "Karim", "Đức", "Jürgen",
]

TOWNS = [
    ("Bordeaux", "École élémentaire Jules Ferry"),
    ("Mérignac", "École primaire Jean Jaurès"),
    ("Pessac", "École Marie Curie"),
    ("Talence", "École maternelle Les Lilas"),
    ("Bègles", "École primaire Victor Hugo"),
    ("Libourne", "École élémentaire Jean Moulin"),
    ("Arcachon", "École Jacques Prévert"),
    ("Périgueux", "École primaire Louise Michel"),
    ("Agen", "École élémentaire Paul Bert"),
    ("Mont-de-Marsan", "École Saint-Exupéry"),
    ("Pau", "École primaire Les Écureuils"),
    ("Bayonne", "École élémentaire Pasteur"),
]

LEVELS = ["PS", "MS", "GS", "CP", "CE1", "CE2", "CM1", "CM2"]
BIRTH_YEAR = {"PS": 2023, "MS": 2022, "GS": 2021, "CP": 2020, "CE1": 2019,
              "CE2": 2018, "CM1": 2017, "CM2": 2016}


def uai_for(n):
    digits = "%07d" % n
    return digits + UAI_LETTERS[int(digits) % 23]


def ascii_fold(s):
    table = str.maketrans("àâäáãåçéèêëíìîïñóòôöõúùûüýÿ",
                          "aaaaaaceeeeiiiinooooouuuuyy")
    s = s.lower().replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    s = s.replace("ẞ", "ss").translate(table)
    return "".join(c for c in s if c.isascii() and (c.isalnum() or c in "-"))


class Generator:
    def __init__(self, seed, siblings=0.4):
        self.rng = random.Random(seed)
        self.siblings = siblings
        self.next_pupil = 1
        self.next_guardian = 1
        self.ines = set()

    def ine(self):
        while True:
            if self.rng.random() < 0.8:
                v = "%010d%s" % (self.rng.randrange(10 ** 10),
                                 self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ"))
            else:
                v = "%09d%s%s" % (self.rng.randrange(10 ** 9),
                                  self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ"),
                                  self.rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ"))
            if v not in self.ines:
                self.ines.add(v)
                return v

    def adult(self, last, woman, legal=True, lien=None):
        gid = "R%08d" % self.next_guardian
        self.next_guardian += 1
        first = self.rng.choice(ADULT_WOMEN if woman else ADULT_MEN)
        email = ""
        if self.rng.random() < 0.75:
            email = "%s.%s%d@exemple.fr" % (
                ascii_fold(first), ascii_fold(last).replace(" ", ""),
                self.rng.randrange(100))
        phone = "0%d %02d %02d %02d %02d" % (
            self.rng.choice([6, 7]), *(self.rng.randrange(100)
                                        for _ in range(4)))
        return {
            "resp_id": gid, "resp_civilite": "Mme" if woman else "M.",
            "resp_nom": last, "resp_prenom": first,
            "resp_lien": lien or ("mere" if woman else "pere"),
            "resp_legal": "oui" if legal else "non",
            "resp_courriel": email, "resp_telephone": phone,
        }

    def household(self):
        """The guardians of a family: two parents, one, or separated
        parents, sometimes with a non-legal step-parent."""
        r = self.rng.random()
        last = self.rng.choice(LAST_NAMES)
        if r < 0.55:
            return last, [self.adult(last, True), self.adult(last, False)]
        if r < 0.70:
            return last, [self.adult(last, True)]
        if r < 0.80:
            return last, [self.adult(last, False)]
        if r < 0.95:
            # Separated parents: the mother kept her own name, and her new
            # partner is on file without parental authority.
            mother = self.adult(self.rng.choice(LAST_NAMES), True)
            father = self.adult(last, False)
            family = [mother, father]
            if self.rng.random() < 0.5:
                family.append(self.adult(self.rng.choice(LAST_NAMES), False,
                                         legal=False, lien="autre"))
            return last, family
        tutor = self.adult(self.rng.choice(LAST_NAMES),
                           self.rng.random() < 0.5, lien="tuteur")
        return last, [tutor]

    def pupil(self, school, level, classe, last, woman):
        pid = "E%08d" % self.next_pupil
        self.next_pupil += 1
        first = self.rng.choice(FIRST_GIRLS if woman else FIRST_BOYS)
        born = "%02d/%02d/%d" % (self.rng.randrange(1, 29),
                                 self.rng.randrange(1, 13), BIRTH_YEAR[level])
        statut = "admis_definitif"
        ine = self.ine()
        r = self.rng.random()
        # Roughly one pupil in ten for each reason of ineligibility.
        if r < 0.06:
            statut = "admis_provisoire"
        elif r < 0.10:
            statut = "inscrit"
        if self.rng.random() < 0.10:
            ine = ""
        if self.rng.random() < 0.10:
            classe = ""
        return {
            "uai": school["uai"], "ecole": school["name"],
            "commune": school["town"], "eleve_id": pid, "nom_eleve": last,
            "prenom_eleve": first, "date_naissance": born, "ine": ine,
            "statut": statut, "classe": classe, "niveau": level,
        }

    def classes(self, npupils):
        """Class names for a school of that size, with their level: one
        class per level is named after it, several get A, B...; a small
        school groups two levels in one class ("CE1-CE2")."""
        per = max(1, round(npupils / 24))
        if per < len(LEVELS):
            pairs = [LEVELS[i:i + 2] for i in range(0, len(LEVELS), 2)]
            return [("-".join(p), p[0]) for p in pairs[:max(1, per)]]
        levels = [LEVELS[i * len(LEVELS) // per] for i in range(per)]
        out = []
        for level in LEVELS:
            n = levels.count(level)
            for k in range(n):
                out.append((level if n == 1 else "%s %s" % (level, "ABCDEFGH"[k]),
                            level))
        return out

    def school_rows(self, school, npupils, families_elsewhere):
        rows = []
        classes = self.classes(npupils)
        made = 0
        while made < npupils:
            if families_elsewhere and self.rng.random() < 0.03:
                last, guardians = self.rng.choice(families_elsewhere)
            else:
                last, guardians = self.household()
                families_elsewhere.append((last, guardians))
            nkids = 1
            if self.rng.random() < self.siblings:
                nkids = self.rng.choices([2, 3], [0.75, 0.25])[0]
            for _ in range(nkids):
                if made >= npupils:
                    break
                name, level = self.rng.choice(classes)
                kid = self.pupil(school, level, name, last,
                                 self.rng.random() < 0.5)
                made += 1
                if self.rng.random() < 0.01:
                    rows.append(dict(kid))  # no guardian on file
                    continue
                for g in guardians:
                    row = dict(kid)
                    row.update(g)
                    rows.append(row)
        return rows


COLUMNS = ["uai", "ecole", "commune", "eleve_id", "nom_eleve", "prenom_eleve",
           "date_naissance", "ine", "statut", "classe", "niveau", "resp_id",
           "resp_civilite", "resp_nom", "resp_prenom", "resp_lien",
           "resp_legal", "resp_courriel", "resp_telephone"]


def csv_field(v):
    if any(c in v for c in ';"\r\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--schools", type=int, default=2)
    ap.add_argument("--pupils", type=int, default=240,
                    help="pupils per school (on average)")
    ap.add_argument("--first-uai", type=int, default=330001,
                    help="number of the first school's UAI")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--siblings", type=float, default=0.4,
                    help="share of families with more than one child in "
                    "the school (0.03 gives DESIGN.md's academy: 300,000 "
                    "pupils, 500,000 guardians and links)")
    ap.add_argument("--encoding", default="utf-8",
                    choices=["utf-8", "utf-8-sig", "cp1252"])
    ap.add_argument("-o", "--output", default="-")
    args = ap.parse_args()

    gen = Generator(args.seed, args.siblings)
    out = (sys.stdout.buffer if args.output == "-"
           else open(args.output, "wb"))
    lines = [";".join(COLUMNS)]
    families = []
    for i in range(args.schools):
        town, name = TOWNS[i % len(TOWNS)]
        if i >= len(TOWNS):
            name = "%s n°%d" % (name, i // len(TOWNS) + 1)
        school = {"uai": uai_for(args.first_uai + i), "name": name,
                  "town": town}
        size = args.pupils if i == 0 else max(
            20, int(args.pupils * gen.rng.uniform(0.5, 1.5)))
        # Families spanning two schools come from the school before.
        families = families[-200:]
        for row in gen.school_rows(school, size, families):
            lines.append(";".join(csv_field(row.get(c, "")) for c in COLUMNS))
    text = "\r\n".join(lines) + "\r\n"
    if args.encoding == "cp1252":
        # Names a Windows code page cannot hold are replaced, as ONDE does.
        data = text.encode("cp1252", errors="replace")
    else:
        data = text.encode(args.encoding)
    out.write(data)
    out.flush()


if __name__ == "__main__":
    main()
