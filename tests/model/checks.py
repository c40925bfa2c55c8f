"""What the model-based tests share (index-model.py, crasher.py): numbered TAP checks,
safe to make from several threads, and the dumps of tests/model/quire-dump by which they
compare an index with a model or with a clean build."""
import subprocess
import sys
import threading


class Tap:
    """TAP lines, numbered in order; counts the failures."""

    def __init__(self):
        self.n = 0
        self.failed = 0
        self._lock = threading.Lock()

    def ok(self, cond, what, detail=""):
        """One check: 'ok N - WHAT', or 'not ok' with up to 40 lines of DETAIL. Returns cond."""
        with self._lock:
            self.n += 1
            if cond:
                print("ok %d - %s" % (self.n, what))
            else:
                self.failed += 1
                print("not ok %d - %s" % (self.n, what))
                for line in str(detail).splitlines()[:40]:
                    print("#   " + line)
            sys.stdout.flush()
        return cond

    def end(self, no_plan):
        """The last line: the plan, or '# checks N failed M' for a wrapper that goes on."""
        if no_plan:
            print("# checks %d failed %d" % (self.n, self.failed))
        else:
            print("1..%d" % self.n)
        return 1 if self.failed else 0


def dump(prog, db):
    """The index DB as quire-dump (PROG) prints it, or None when it does not open."""
    p = subprocess.run([prog, db], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        return None
    return p.stdout.decode(errors="replace")


def parse_dump(text):
    """id -> [id, title, date, text hash] of a dump."""
    return {line.split("\t")[0]: line.split("\t") for line in text.splitlines()}
