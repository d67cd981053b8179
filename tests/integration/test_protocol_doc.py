"""doc/protocol.md against the protocol's own tables: every operation of
common/proto-ops.def has one section whose roles, peers and flags are the
table's, and whose errors exist in common/proto-errors.def. The reference
cannot drift from the code without this test failing. No stack needed."""

import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))

ROLE_BITS = {"ROLE_DIRECTEUR": ["directeur"],
             "ROLE_ASSISTANCE": ["assistance"],
             "ROLE_ADMIN": ["admin"],
             "ROLE_STAFF": ["directeur", "assistance", "admin"]}
PEER_BITS = {"PEER_CLIENT": ["client"], "PEER_SSHD": ["sshd"],
             "PEER_GUICHET": ["guichet"],
             "PEER_STAFF": ["client", "sshd"],
             "PEER_ANY": ["client", "sshd", "guichet"]}
FLAG_BITS = {"OPF_PREAUTH": "preauth", "OPF_SCHOOL": "school",
             "OPF_ACADEMY": "academy", "OPF_UPLOAD": "upload"}
ROLE_ORDER = ["directeur", "assistance", "admin"]
PEER_ORDER = ["client", "sshd", "guichet"]
FLAG_ORDER = ["preauth", "school", "academy", "upload"]


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def expand(expr, bits, order):
    """The names an OR of symbols stands for, in the documented order."""
    names = set()
    for sym in (s.strip() for s in expr.split("|")):
        if sym == "0":
            continue
        if sym not in bits:
            raise AssertionError("unknown symbol %r in proto-ops.def" % sym)
        found = bits[sym]
        names.update([found] if isinstance(found, str) else found)
    return [n for n in order if n in names]


def operations():
    """(wire name, roles, peers, flags) of every OP(...) of the table."""
    text = re.sub(r"/\*.*?\*/", "", read("common/proto-ops.def"), flags=re.S)
    ops = []
    for m in re.finditer(r"OP\((.*?)\)\s*$", text, flags=re.S | re.M):
        fields = [f.strip() for f in m.group(1).split(",")]
        if len(fields) != 5:
            raise AssertionError("cannot read OP(%s)" % m.group(1))
        ops.append((fields[1].strip('"'),
                    expand(fields[2], ROLE_BITS, ROLE_ORDER),
                    expand(fields[3], PEER_BITS, PEER_ORDER),
                    expand(fields[4], FLAG_BITS, FLAG_ORDER)))
    return ops


def error_codes():
    return set(re.findall(r"^PROTO_ERROR\((E_[A-Z_]+),", read(
        "common/proto-errors.def"), flags=re.M))


def sections():
    """Operation name -> the text of its ### section in the reference."""
    doc = read("doc/protocol.md")
    parts = re.split(r"^### ", doc, flags=re.M)[1:]
    out = {}
    for p in parts:
        m = re.match(r"`([a-z-]+)`\s*\n", p)
        if m is None:
            raise AssertionError("a ### heading that names no operation: %r"
                                 % p.splitlines()[0])
        if m.group(1) in out:
            raise AssertionError("operation %s documented twice" %
                                 m.group(1))
        out[m.group(1)] = p
    return out


def field(section, name):
    m = re.search(r"^- %s:\s*(.*)$" % name, section, flags=re.M)
    return None if m is None else m.group(1).strip()


class TestProtocolReference(unittest.TestCase):
    def test_every_operation_once_and_no_other(self):
        ops = [o[0] for o in operations()]
        self.assertGreater(len(ops), 10)
        self.assertEqual(sorted(sections()), sorted(ops))

    def test_roles_peers_flags_match_the_table(self):
        docs = sections()
        for name, roles, peers, flags in operations():
            s = docs.get(name)
            self.assertIsNotNone(s, name)
            self.assertEqual(field(s, "Roles"), ", ".join(roles) if roles
                             else "none (before login)", name)
            self.assertEqual(field(s, "Peers"), ", ".join(peers), name)
            self.assertEqual(field(s, "Flags"), ", ".join(flags) if flags
                             else "none", name)

    def test_errors_exist(self):
        codes = error_codes()
        self.assertIn("E_BUSY", codes)
        for name, s in sections().items():
            listed = field(s, "Errors")
            self.assertIsNotNone(listed, "%s: no Errors line" % name)
            for code in re.findall(r"E_[A-Z_]+", listed):
                self.assertIn(code, codes, "%s lists %s" % (name, code))
            self.assertIsNotNone(field(s, "Arguments"), name)
            self.assertIsNotNone(field(s, "Result"), name)

    def test_every_error_code_is_described(self):
        doc = read("doc/protocol.md")
        for code in error_codes():
            self.assertIn("`%s`" % code, doc, code)


if __name__ == "__main__":
    unittest.main()
