"""An ecadmd refuses to serve a database whose account_states says other
than common/states.def: the clients label states from states.def, and a
table edited by hand would make them show what the database does not
hold."""

import unittest

import harness


class TestStates(unittest.TestCase):
    def assert_refused(self, s, name, expected):
        d = harness.Daemon(s, name, harness.free_port())
        with self.assertRaises(RuntimeError) as e:
            d.start()
        self.assertIn(expected, str(e.exception))

    def assert_shared_daemon_serves(self, s):
        c = s.connect()
        self.assertTrue(c.hello()["ok"])
        c.close()

    def test_other_label_is_refused(self):
        s = harness.stack()
        s.psql("update account_states set label = 'Activé !'"
               " where code = 'active'")
        try:
            self.assert_refused(s, "relabelled",
                                'account_states labels state "active"'
                                ' "Activé !", states.def "Activé"')
        finally:
            s.psql("update account_states set label = 'Activé'"
                   " where code = 'active'")
        self.assert_shared_daemon_serves(s)
        # Restored, the table is accepted again.
        d = harness.Daemon(s, "restored", harness.free_port()).start()
        self.assertEqual(d.stop(), 0)

    def test_unknown_state_is_refused(self):
        s = harness.stack()
        s.psql("insert into account_states values ('archive', 'Archivé',"
               " 99)")
        try:
            self.assert_refused(s, "archive", 'account_states holds state'
                                ' "archive", unknown to states.def')
        finally:
            s.psql("delete from account_states where code = 'archive'")
        self.assert_shared_daemon_serves(s)


if __name__ == "__main__":
    unittest.main()
