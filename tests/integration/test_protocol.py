"""Framing and protocol violations: each closes only its own connection,
while another client keeps being served."""

import json
import os
import struct
import subprocess
import unittest

import harness


class TestProtocol(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = harness.stack()
        cls.good = cls.s.connect()
        cls.good.hello()
        assert cls.good.login("dir.a", cls.s.users["dir.a"])["ok"]

    @classmethod
    def tearDownClass(cls):
        cls.good.close()

    def assert_others_served(self):
        r = self.good.call("classes")
        self.assertTrue(r["ok"], r)
        self.assertGreater(len(r["result"]["classes"]), 0)

    def test_oversized_length_closes_that_connection(self):
        bad = self.s.connect()
        bad.hello()
        bad.send_raw(struct.pack(">I", 0x7fffffff) + b"{}")
        self.assertTrue(bad.closed())
        self.assert_others_served()

    def test_zero_length_closes(self):
        bad = self.s.connect()
        bad.hello()
        bad.send_raw(struct.pack(">I", 0))
        self.assertTrue(bad.closed())
        self.assert_others_served()

    def test_garbage_json_closes_that_connection(self):
        bad = self.s.connect()
        bad.hello()
        payload = b"{this is not json"
        bad.send_raw(struct.pack(">I", len(payload)) + payload)
        reply = bad.recv()
        self.assertEqual(reply["error"]["code"], "E_PROTO")
        self.assertTrue(bad.closed())
        self.assert_others_served()

    def test_invalid_utf8_closes(self):
        bad = self.s.connect()
        bad.hello()
        payload = b'{"id": 2, "op": "whoami", "args": {"x": "\xff\xfe"}}'
        bad.send_raw(struct.pack(">I", len(payload)) + payload)
        self.assertEqual(bad.recv()["error"]["code"], "E_PROTO")
        self.assertTrue(bad.closed())
        self.assert_others_served()

    def test_json_that_is_not_a_request_closes(self):
        for payload in (b"[1, 2, 3]", b'{"id": "one", "op": "whoami"}',
                        b'{"id": 1, "op": "whoami", "args": [1]}'):
            bad = self.s.connect()
            bad.hello()
            bad.send_raw(struct.pack(">I", len(payload)) + payload)
            self.assertEqual(bad.recv()["error"]["code"], "E_PROTO", payload)
            self.assertTrue(bad.closed(), payload)
        self.assert_others_served()

    def test_wrong_protocol_version_closes(self):
        bad = self.s.connect()
        r = bad.hello(version=99)
        self.assertEqual(r["error"]["code"], "E_VERSION")
        self.assertTrue(bad.closed())
        self.assert_others_served()

    def test_request_before_hello_closes(self):
        bad = self.s.connect()
        bad.send({"id": 1, "op": "login", "args": {"login": "x",
                                                   "password": "y"}})
        self.assertEqual(bad.recv()["error"]["code"], "E_PROTO")
        self.assertTrue(bad.closed())
        self.assert_others_served()

    def test_unknown_operation_is_an_error_not_a_close(self):
        c = self.s.connect()
        c.hello()
        r = c.call("format-disk")
        self.assertEqual(r["error"]["code"], "E_INVALID")
        self.assertFalse(c.closed(timeout=0.3))
        self.assertTrue(c.call("hello", version=1)["ok"])
        c.close()

    def test_hello_names_the_server(self):
        c = self.s.connect()
        r = c.hello()
        self.assertEqual(r["result"]["version"], 1)
        self.assertTrue(r["result"]["server"].startswith("ecadmd/"))
        self.assertEqual(r["result"]["peer"], "client")
        c.close()

    def test_frontend_certificate_is_recognised(self):
        c = self.s.connect(cert="sshd")
        self.assertEqual(c.hello()["result"]["peer"], "sshd")
        c.close()
        c = self.s.connect(cert="guichet")
        self.assertEqual(c.hello()["result"]["peer"], "guichet")
        # The guichet acts for guardians, never for staff.
        r = c.login("dir.a", self.s.users["dir.a"])
        self.assertEqual(r["error"]["code"], "E_FORBIDDEN")
        c.close()

    def make_cert(self, name, cn, ext, ca):
        """A client certificate signed by the CA named ca (in s.tls)."""
        tls = self.s.tls
        key = os.path.join(tls, name + ".key")
        subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-out", key], check=True,
                       capture_output=True)
        extfile = os.path.join(tls, name + ".ext")
        with open(extfile, "w") as f:
            f.write(ext + "\n")
        csr = subprocess.run(["openssl", "req", "-new", "-key", key, "-subj",
                              "/CN=" + cn], check=True,
                             capture_output=True).stdout
        subprocess.run(["openssl", "x509", "-req", "-CA",
                        os.path.join(tls, ca + ".crt"), "-CAkey",
                        os.path.join(tls, ca + ".key"), "-CAcreateserial",
                        "-days", "2", "-extfile", extfile, "-out",
                        os.path.join(tls, name + ".crt")], input=csr,
                       check=True, capture_output=True)

    def test_a_common_name_does_not_make_a_front_end(self):
        # Signed by the front-ends' CA, CN ecadm-sshd, but no peer URI.
        self.make_cert("cn-only", "ecadm-sshd", "extendedKeyUsage=clientAuth",
                       "peer-ca")
        c = self.s.connect(cert="cn-only")
        self.assertEqual(c.hello()["result"]["peer"], "client")
        c.close()
        # The right URI, but not for client use, or signed by the servers'
        # CA: the handshake fails.
        self.make_cert("server-use", "x", "subjectAltName=URI:urn:ecadm:"
                       "peer:sshd\nextendedKeyUsage=serverAuth", "peer-ca")
        self.make_cert("wrong-ca", "ecadm-sshd", "subjectAltName=URI:urn:"
                       "ecadm:peer:sshd\nextendedKeyUsage=clientAuth", "ca")
        for cert in ("server-use", "wrong-ca"):
            with self.assertRaises((OSError, EOFError), msg=cert):
                c = self.s.connect(cert=cert)
                c.hello()
        self.assert_others_served()

    def test_upload_digest_must_be_lowercase_hex(self):
        """A digest that could never match is refused when announced, not
        after the whole file."""
        c = self.s.connect()
        c.hello()
        self.assertTrue(c.login("admin", self.s.users["admin"])["ok"])
        c.send({"id": 9, "op": "import", "args": {},
                "blob": {"size": 10, "sha256": "AB" * 32, "name": "x.csv"}})
        self.assertEqual(c.recv()["error"]["code"], "E_PROTO")
        self.assertTrue(c.closed())
        self.assert_others_served()

    def test_pipelined_requests_are_answered_in_order(self):
        c = self.s.connect()
        c.hello()
        c.login("dir.a", self.s.users["dir.a"])
        for i in range(10, 20):
            c.send({"id": i, "op": "whoami" if i % 2 else "classes",
                    "args": {}})
        ids = [c.recv()["id"] for _ in range(10)]
        self.assertEqual(ids, list(range(10, 20)))
        c.close()


if __name__ == "__main__":
    unittest.main()
