"""prepare_sessions.py on the three formats it reads (run by scripts/test.sh)."""
import gzip
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def prepare(train_text, test_text, suffix, *flags):
    with tempfile.TemporaryDirectory() as d:
        paths = []
        for name, text in (("train", train_text), ("test", test_text)):
            path = os.path.join(d, name + suffix)
            opener = gzip.open if suffix.endswith(".gz") else open
            with opener(path, "wt", encoding="utf-8") as f:
                f.write(text)
            paths.append(path)
        out = os.path.join(d, "out")
        subprocess.run([sys.executable, os.path.join(HERE, "prepare_sessions.py"), "--train", paths[0], "--test", paths[1],
                        "--out", out, *flags], check=True, capture_output=True)
        read = lambda n: open(os.path.join(out, n), encoding="utf-8").read().splitlines()
        return read("train_sessions.txt"), read("test_sessions.txt")


class PrepareSessions(unittest.TestCase):
    def test_session_rec_tsv_is_grouped_and_ordered_by_time(self):
        train = "SessionId\tItemId\tTime\n1\tb\t20\n1\ta\t10\n2\tc\t5\n2\ta\t6\n3\tlonely\t1\n"
        test = "SessionId\tItemId\tTime\n9\ta\t1\n9\tunseen\t2\n9\tc\t3\n"
        self.assertEqual(prepare(train, test, ".txt"), (["a b", "c a"], ["a c"]))

    def test_recbole_inter_with_typed_columns_gzipped(self):
        train = "session_id:token\titem_id:token\ttimestamp:float\ns1\tx\t3\ns1\ty\t1\n"
        test = "session_id:token\titem_id:token\ttimestamp:float\ns2\ty\t1\ns2\tx\t2\n"
        self.assertEqual(prepare(train, test, ".inter.gz"), (["y x"], ["y x"]))

    def test_a_csv_with_a_header_and_iso_times_is_a_table(self):
        """Not four plain sessions with the header as one: grouped by session, ordered by time."""
        train = "session_id,item_id,timestamp\n1,b,2024-03-10T10:05:00Z\n1,a,2024-03-10 10:00:00 -0000\n2,c,1710065000\n2,a,1710065100\n"
        test = "session_id,item_id,timestamp\n9,a,2024-03-11T09:00:00+01:00\n9,c,2024-03-11T09:01:00+01:00\n"
        self.assertEqual(prepare(train, test, ".csv"), (["a b", "c a"], ["a c"]))

    def test_an_unreadable_time_names_its_line_and_column(self):
        train = "session_id,item_id,timestamp\n1,a,2024-03-10T10:00:00Z\n1,b,yesterday\n"
        with self.assertRaises(subprocess.CalledProcessError) as e:
            prepare(train, train, ".csv")
        self.assertIn("train.csv:3:3: 'yesterday' is not a time", e.exception.stderr.decode())

    def test_plain_sessions_pass_through(self):
        self.assertEqual(prepare("a b c\nd,e\nf\n", "a d\n", ".txt"), (["a b c", "d e"], ["a d"]))


if __name__ == "__main__":
    unittest.main()
