#!/usr/bin/python3
"""make-seeds.py: write the seed inputs of the fuzz targets.

    tests/fuzz/make-seeds.py

Writes tests/fuzz/corpus/TARGET/seed-* (deterministic): realistic frames,
replies, configuration files and extractions that the fuzzer mutates. Files
named crash-* are regression inputs found by fuzzing; they are left alone.
"""

import hashlib
import json
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def frame(payload):
    """One frame: a 4-byte big-endian length, then the payload."""
    if not isinstance(payload, bytes):
        payload = json.dumps(payload, ensure_ascii=False,
                             separators=(",", ":")).encode()
    return struct.pack(">I", len(payload)) + payload


def blob_frames(data, chunk):
    """A binary payload cut into frames of at most chunk bytes."""
    return b"".join(frame(data[i:i + chunk])
                    for i in range(0, len(data), chunk))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


HELLO = {"id": 1, "op": "hello",
         "args": {"version": 1, "client": "ecadmctl"}}


def frame_seeds():
    """Client to server streams."""
    write("fuzz-frame", "hello", frame(HELLO))
    write("fuzz-frame", "session", b"".join([
        frame(HELLO),
        frame({"id": 2, "op": "login",
               "args": {"user": "dir.0330001X", "password": "Été-2024!x"}}),
        frame({"id": 3, "op": "search",
               "args": {"school": "0330001X", "query": "Léger",
                        "classes": ["CP-A", "CE1"], "limit": 50,
                        "offset": 0, "eligible": True}}),
        frame({"id": 4, "op": "whoami"}),
        frame({"id": 5, "op": "stats", "args": {"ratio": 0.25,
                                                 "nothing": None}}),
        frame({"id": 6, "op": "no-such-op", "args": {}}),
    ]))
    data = ("uai;eleve_id;nom_eleve\n0330001X;E1;LÉGER\n").encode()
    sha = hashlib.sha256(data).hexdigest()
    write("fuzz-frame", "upload", b"".join([
        frame(HELLO),
        frame({"id": 2, "op": "import", "args": {"dry_run": True},
               "blob": {"size": len(data), "sha256": sha,
                        "name": "onde.csv"}}),
        blob_frames(data, 16),
        frame({"id": 3, "op": "journal", "args": {"limit": 10}}),
    ]))
    write("fuzz-frame", "before-hello",
          frame({"id": 1, "op": "whoami", "args": {}}))
    write("fuzz-frame", "bad-version", frame(
        {"id": 1, "op": "hello", "args": {"version": 99}}))
    write("fuzz-frame", "not-object", frame(HELLO) + frame(b"[1,2,3]"))
    write("fuzz-frame", "escapes", frame(HELLO) + frame(
        b'{"id":2,"op":"search","args":{"q":"\\u00c9cole \\ud83d\\ude00 '
        b'\\"x\\"\\\\","n":-1.5e300,"big":9223372036854775807}}'))


def reply(id_, result=None, blob=None):
    msg = {"id": id_, "ok": True, "result": result or {}}
    if blob is not None:
        msg["blob"] = blob
    return frame(msg)


def reply_frames():
    """Server to client streams."""
    write("fuzz-reply", "hello", reply(1, {"version": 1,
                                            "server": "ecadmd/0.1.0",
                                            "peer": "client"}))
    write("fuzz-reply", "error", frame({
        "id": 2, "ok": False,
        "error": {"code": "E_INVALID",
                  "message": "Le fichier contient des erreurs.",
                  "details": ["ligne 3, colonne ine : INE invalide",
                              "ligne 7 : 20 champs au lieu de 19"]}}))
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 2 + b"\n%%EOF\n"
    sha = hashlib.sha256(pdf).hexdigest()
    write("fuzz-reply", "blob", b"".join([
        reply(2, {"letters": 2}, {"size": len(pdf), "sha256": sha,
                                  "name": "courriers-0330001X.pdf"}),
        blob_frames(pdf, 200),
        reply(3, {"rows": [{"nom": "LÉGER", "prenom": "Enzo",
                            "etat": "actif"}], "total": 1}),
    ]))
    write("fuzz-reply", "several", b"".join([
        reply(1, {"version": 1}),
        reply(2, {"user": "dir.0330001X", "role": "directeur",
                  "schools": ["0330001X"]}),
        frame({"id": 3, "ok": False,
               "error": {"code": "E_FORBIDDEN", "message": "Interdit."}}),
    ]))


INI = b"""# ecadmd configuration
[server]
listen = 0.0.0.0:7443
workers = 4
max_connections = 1000

[tls]
certificate = /etc/ecadm/server.crt
peer_ca = /etc/ecadm/peers.pem

[database]
url = postgresql://ecadm@db.example.fr/ecadm?sslmode=verify-full

[security]
session_idle = 15

[documents]
guichet_url = https://guichet.ac-bordeaux.fr/

[log]
debug = yes
syslog = off
"""


def ini_seeds():
    write("fuzz-ini", "full", INI)
    write("fuzz-ini", "comments", b"\xef\xbb\xbf; BOM, comments\r\n"
          b"[server]\r\nworkers = 2 ; inline\r\nlisten=127.0.0.1:7443\r\n"
          b"  continued line\r\n[log]\r\ndebug=true\r\n")
    write("fuzz-ini", "errors", b"[server]\nworkers = huit\n"
          b"unknown = 1\n[log]\ndebug = peut-etre\nno equals sign\n"
          b"[broken\n")
    with open(os.path.join(ROOT, "etc", "ecadmd.ini"), "rb") as f:
        write("fuzz-ini", "example", f.read())


def onde_seeds():
    gen = os.path.join(ROOT, "tools", "gen-onde.py")
    for enc in ("utf-8", "utf-8-sig", "cp1252"):
        out = subprocess.run([sys.executable, gen, "--schools", "1",
                              "--pupils", "4", "--seed", "3",
                              "--encoding", enc],
                             check=True, capture_output=True).stdout
        # A few lines: the header and the first pupils.
        lines = out.split(b"\n")
        write("fuzz-onde", enc, b"\n".join(lines[:7]) + b"\n")
    # Enough pupils, guardians and links (over 512 keys) to grow the table
    # of what earlier lines said, in few bytes.
    many = ["uai;eleve_id;nom_eleve;prenom_eleve;date_naissance;statut;"
            "resp_id;resp_nom;resp_prenom;resp_legal"]
    for n in range(200):
        many.append("0330001X;E%d;N%d;P;01/01/2018;inscrit;R%d;N%d;M;oui"
                    % (n, n, n, n))
    write("fuzz-onde", "many", ("\n".join(many) + "\n").encode())
    head = ("uai;ecole;commune;eleve_id;nom_eleve;prenom_eleve;"
            "date_naissance;ine;statut;classe;niveau;resp_id;resp_civilite;"
            "resp_nom;resp_prenom;resp_lien;resp_legal;resp_courriel;"
            "resp_telephone")
    write("fuzz-onde", "quotes-crlf", (
        head.upper() + "\r\n"
        '0330001X;"École ""Jean; Jaurès""";Bordeaux;E-1;MARTIN;Zoé;'
        "01/02/2018;;inscrit;CP;cp;R_1;Mme;MARTIN;Anne;mère;OUI;"
        "anne.martin@example.fr;+33 6 12 34 56 78\r\n"
        "\r\n"
        "0330001X;;;E-2;MARTIN;Léo;01/02/2018;;admis_provisoire;;;;;;;;;;"
        "\r\n").encode())
    write("fuzz-onde", "bad-lines", (
        "eleve_id;uai;nom_eleve;prenom_eleve;date_naissance;statut;extra\n"
        "E1;0330001Y;A;B;30/02/2020;x;\n"
        "E1;0330001X;A;B;01/01/2019;inscrit\n"
        'E2;0330001X;"A"x;B;01/01/2019;inscrit;\n'
        "E3;0330001X;A;B;01/01/2019;inscrit;\"open\n").encode())
    write("fuzz-onde", "nul-byte", (
        "uai;eleve_id;nom_eleve;prenom_eleve;date_naissance;statut\n"
        "0330001X;E1;MARTIN\0;Zo\u00e9;01/02/2018;inscrit\n"
        '0330001X;E2;"MAR\nTIN";L\u00e9o\0;01/02/2018;inscrit\n').encode())


def main():
    frame_seeds()
    reply_frames()
    ini_seeds()
    onde_seeds()


if __name__ == "__main__":
    main()
