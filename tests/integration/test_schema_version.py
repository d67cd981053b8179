"""An ecadmd refuses to serve a schema newer than the migrations it embeds:
a newer schema may hold rules (sealed secrets, say) this binary would not
enforce."""

import unittest

import harness


class TestSchemaVersion(unittest.TestCase):
    def test_newer_schema_is_refused(self):
        s = harness.stack()
        s.psql("insert into schema_migrations (version, name)"
               " values (9999, '9999_future.sql')")
        try:
            d = harness.Daemon(s, "future", harness.free_port())
            with self.assertRaises(RuntimeError) as e:
                d.start()
            self.assertIn("newer than this ecadmd", str(e.exception))
        finally:
            s.psql("delete from schema_migrations where version = 9999")
        # The shared daemon, started before, still serves.
        c = s.connect()
        self.assertTrue(c.hello()["ok"])
        c.close()


if __name__ == "__main__":
    unittest.main()
