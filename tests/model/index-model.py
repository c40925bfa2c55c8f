#!/usr/bin/env python3
"""Model-based randomized test of quire-index (run by tests/model/index-model.sh).

A model of several input roots (text, Markdown, HTML, JSON Lines, .json files holding one
object -- with or without an "id" -- or an array of them; plain, gzip-compressed and with a
BOM; JSON ids shared between files and repeated inside one; JSON ids equal to a text
file's id) and random operations on it: add, edit, rename, move between roots, delete,
duplicate an id, compress a file with gzip (its id stays), make a file unreadable (and
readable again), truncate a .gz of any format; interleaved with incremental runs (random
--batch, --jobs; some after a dry run, whose counts and exit code must be the run's, and
which must write nothing), runs killed with SIGKILL at a random moment, --rebuild (--keep 2 or 3)
and --rollback.

After every complete run the index (tests/model/quire-dump: id, title, date, text hash)
is checked:
  - against the model: the set of ids, and each id's title is the title of the record the
    rule picks (the file whose path sorts first, then its first line) among the records
    of every file as it was last read completely -- a file unreadable during a run keeps
    the records it had;
  - against a clean build of the same tree into a scratch directory (when every file is
    readable): the whole dump, byte for byte;
  - the exit code: 1 when an id is held by several records or a file could not be read,
    else 0.
A killed run is checked after the next complete run; a rollback is checked against the
dump the generation had when it stopped being live.

Usage: index-model.py BUILD_DIR WORK_DIR [--seed N] [--ops N] [--seconds S]
Prints TAP. The seed is printed first; rerun with --seed to reproduce.
"""
import argparse
import gzip
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import checks

ap = argparse.ArgumentParser()
ap.add_argument("build")
ap.add_argument("work")
ap.add_argument("--seed", type=int, default=None)
ap.add_argument("--ops", type=int, default=300)
ap.add_argument("--seconds", type=float, default=60)
ap.add_argument("--index", default=None, help="the quire-index to run (default BUILD's)")
ap.add_argument("--no-kill", action="store_true", help="never SIGKILL a run (under valgrind)")
ap.add_argument("--no-plan", action="store_true",
                help="end with '# checks N failed M' instead of the TAP plan")
args = ap.parse_args()
seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "little")
rng = random.Random(seed)
print("# seed %d (rerun: index-model.py BUILD WORK --seed %d --ops %d)" % (seed, seed, args.ops))

INDEX = args.index or os.path.join(args.build, "indexer", "quire-index")
DUMP = os.path.join(args.build, "tests", "model", "quire-dump")
WORK = os.path.realpath(args.work)
IN = os.path.join(WORK, "in")
DB = os.path.join(WORK, "db")
ROOTS = ["r0", "r1", "r2"]
AS_ROOT = os.getuid() == 0
NOBODY = 65534
# Root reads every file: the indexer runs as nobody, so that mode 000 means unreadable.
RUNAS = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"] if AS_ROOT else []

tap = checks.Tap()
ok = tap.ok


def own(path):
    if AS_ROOT:
        os.chown(path, NOBODY, NOBODY)


WORDS = ("okapi herd river grain market harbour winter budget rail copper festival "
         "orchard bridge council drought lantern").split()


def words(n):
    return " ".join(rng.choice(WORDS) for _ in range(n))


class File:
    """One input file: its kind and its records as on disk."""

    def __init__(self, kind):
        self.kind = kind          # txt md html json jsonl ndjson, each maybe + ".gz"
        self.latin1 = False       # a text or HTML file written in Latin-1
        self.records = []         # [(id, title, body)]; text kinds: one record, id None
        self.array = False        # a .json file: an array of records (else one object,
                                  # whose id None means the file's id)
        self.readable = True
        self.bom = False
        self.truncated = False    # a .gz cut short: unreadable until rewritten

    def base(self):
        return self.kind[:-3] if self.kind.endswith(".gz") else self.kind

    def is_json(self):
        return self.base() in ("json", "jsonl", "ndjson")


def file_id(rel):
    """The id a text (or id-less .json object) file has: its path without ".gz"."""
    return rel[:-3] if rel.endswith(".gz") else rel


def file_records(rel, f):
    """The records of a file as the indexer reads them: (id, title, body)."""
    if not f.is_json():
        return [(file_id(rel), f.records[0][1], f.records[0][2])]
    return [(file_id(rel) if i is None else i, t, b) for i, t, b in f.records]


files = {}          # relpath (below IN) -> File
counter = [0]
# What the live generation last read of each file (None: never read completely). A file
# that could not be read keeps what it had.
indexed = {}


def new_title():
    counter[0] += 1
    # Four or more words: a headline the text reader takes as the title.
    return "%s Report Number %d" % (rng.choice(WORDS).capitalize(), counter[0])


def text_title(f):
    """A title for a text or HTML file: sometimes with Latin-1 letters (written in Latin-1
    when the file is), sometimes a headline of two words."""
    if f.base() == "txt" and rng.random() < 0.2:
        return "%s %s" % (rng.choice(WORDS).capitalize(), rng.choice(WORDS).capitalize())
    t = new_title()
    if f.latin1 or rng.random() < 0.2:
        t = t.replace("Report", "Caf\u00e9 R\u00e9sum\u00e9")
    return t


def new_record(ids_pool):
    counter[0] += 1
    if ids_pool and rng.random() < 0.3:
        rid = rng.choice(ids_pool)           # an id another record holds
    else:
        rid = "j%d" % rng.randrange(0, 400)
    return (rid, new_title(), "the %s said %s %d" % (words(3), words(6), counter[0]))


def all_json_ids():
    return [r[0] for f in files.values() if f.is_json() for r in f.records if r[0] is not None]


def text_ids():
    return [file_id(p) for p, f in files.items() if not f.is_json() or (f.base() == "json" and not f.array)]


def write(rel):
    f = files[rel]
    path = os.path.join(IN, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.exists(path):
        os.chmod(path, 0o644)
    if f.is_json():
        import json

        def obj(i, t, b):
            return {"title": t, "body": b} if i is None else {"id": i, "title": t, "body": b}
        if f.base() != "json":
            data = "".join(json.dumps(obj(*r)) + "\n" for r in f.records)
        elif f.array:
            data = json.dumps([obj(*r) for r in f.records], indent=rng.choice([None, 1])) + "\n"
        else:
            data = json.dumps(obj(*f.records[0])) + "\n"
        raw = (b"\xef\xbb\xbf" if f.bom else b"") + data.encode()
    else:
        _, t, b = f.records[0]
        if f.base() == "txt":
            raw = ("%s\n\n%s.\n" % (t, b.capitalize())).encode()
        elif f.base() == "md":
            raw = ("# %s\n\n%s.\n" % (t, b.capitalize())).encode()
        else:
            meta = '<meta charset="iso-8859-1">' if f.latin1 else ""
            raw = ("<html><head>%s<title>%s</title></head><body><article><p>%s.</p>"
                   "</article></body></html>" % (meta, t, b.capitalize())).encode(
                       "latin-1" if f.latin1 else "utf-8")
        if f.base() == "txt" and f.latin1:
            raw = ("%s\n\n%s.\n" % (t, b.capitalize())).encode("latin-1")
    if f.kind.endswith(".gz"):
        raw = gzip.compress(raw)
    with open(os.path.join(os.path.dirname(path), ".new"), "wb") as out:
        out.write(raw)
    os.replace(os.path.join(os.path.dirname(path), ".new"), path)
    # A new mtime every write, whatever the clock's resolution: the signature must change.
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + rng.randrange(1, 10**9)))
    own(path)
    f.truncated = False
    if not f.readable:
        os.chmod(path, 0)


def abspath(rel):
    return os.path.join(IN, rel)


# ---- operations ---------------------------------------------------------------------------

def op_add():
    kind = rng.choice(["txt", "md", "html", "jsonl", "jsonl", "jsonl.gz", "ndjson", "json",
                       "json", "json.gz", "txt.gz", "md.gz", "html.gz"])
    root = rng.choice(ROOTS)
    sub = rng.choice(["", "", "a/", "b/c/"])
    counter[0] += 1
    rel = "%s/%s%s%d.%s" % (root, sub, rng.choice(["f", "g", "z"]), counter[0], kind)
    f = File(kind)
    if f.is_json():
        pool = all_json_ids()
        if rng.random() < 0.15 and text_ids():
            pool = pool + text_ids()         # a JSON id equal to a text file's id
        f.records = [new_record(pool) for _ in range(rng.randrange(1, 6))]
        f.bom = rng.random() < 0.2
        if f.base() == "json":
            f.array = rng.random() < 0.5
            if not f.array:
                f.records = f.records[:1]
                if rng.random() < 0.4:
                    f.records = [(None,) + f.records[0][1:]]   # an object without "id"
    else:
        f.latin1 = f.base() in ("txt", "html") and rng.random() < 0.3
        f.records = [(None, text_title(f), "the %s %s" % (words(4), counter[0]))]
    files[rel] = f
    write(rel)
    return "add %s%s" % (rel, " (Latin-1)" if f.latin1 else "")


def pick(pred=lambda f: True):
    c = sorted(p for p, f in files.items() if pred(f))
    return rng.choice(c) if c else None


def op_edit():
    rel = pick()
    if not rel:
        return op_add()
    f = files[rel]
    if f.base() == "json" and not f.array:
        i, _, b = f.records[0]
        what = rng.randrange(4)
        if what == 0:
            # Becomes an array: its records need ids.
            f.array = True
            f.records = [(i if i is not None else new_record(all_json_ids())[0], new_title(), b)]
        elif what == 1:
            f.records = [(None if i is not None else new_record(all_json_ids())[0], new_title(), b)]
        else:
            f.records = [(i, new_title(), b + " revised")]
    elif f.is_json():
        recs = list(f.records)
        what = rng.randrange(6 if f.base() == "json" else 5)
        if what == 0 and recs:
            recs.pop(rng.randrange(len(recs)))
        elif what == 1:
            recs.insert(rng.randrange(len(recs) + 1), new_record(all_json_ids()))
        elif what == 2 and recs:
            k = rng.randrange(len(recs))
            recs[k] = (recs[k][0], new_title(), recs[k][2] + " revised")
        elif what == 3:
            rng.shuffle(recs)
        elif what == 4 and recs:
            recs.append(rng.choice(recs))    # the same id twice in one file
        elif what == 5:
            # An array becomes one object (with the first record's id, or none).
            f.array = False
            recs = recs[:1] or [new_record(all_json_ids())]
            if rng.random() < 0.5:
                recs = [(None,) + recs[0][1:]]
        f.records = recs
        if rng.random() < 0.1:
            f.bom = not f.bom
    else:
        f.records = [(None, text_title(f), f.records[0][2] + " revised")]
    write(rel)
    return "edit %s" % rel


def op_dup():
    rel = pick(lambda f: f.is_json() and (f.array or f.base() != "json"))
    ids = all_json_ids() + text_ids()
    if not rel or not ids:
        return op_add()
    f = files[rel]
    counter[0] += 1
    f.records.insert(rng.randrange(len(f.records) + 1),
                     (rng.choice(ids), new_title(), "a duplicate %d" % counter[0]))
    write(rel)
    return "duplicate an id into %s" % rel


def op_delete():
    rel = pick()
    if not rel:
        return op_add()
    os.unlink(abspath(rel))
    del files[rel]
    return "delete %s" % rel


def op_move():
    rel = pick()
    if not rel:
        return op_add()
    f = files.pop(rel)
    root = rng.choice(ROOTS)
    counter[0] += 1
    new = "%s/m%d.%s" % (root, counter[0], f.kind)
    os.makedirs(os.path.dirname(abspath(new)), exist_ok=True)
    os.rename(abspath(rel), abspath(new))
    files[new] = f
    return "move %s -> %s" % (rel, new)


def op_chmod():
    # Mostly back to readable when some file is not: most checks then see a readable tree.
    rel = pick(lambda f: not f.readable) if rng.random() < 0.7 else None
    rel = rel or pick()
    if not rel:
        return op_add()
    f = files[rel]
    f.readable = not f.readable
    os.chmod(abspath(rel), 0o644 if f.readable else 0)
    return "chmod %s %s" % ("644" if f.readable else "000", rel)


def op_compress():
    """gzip a file in place: a.txt becomes a.txt.gz, and its id stays a.txt."""
    rel = pick(lambda f: not f.kind.endswith(".gz"))
    if not rel:
        return op_add()
    f = files.pop(rel)
    f.kind += ".gz"
    new = rel + ".gz"
    files[new] = f
    os.unlink(abspath(rel))
    write(new)
    return "gzip %s" % rel


def op_truncate_gz():
    rel = pick(lambda f: f.kind.endswith(".gz") and f.readable)
    if not rel:
        return op_add()
    path = abspath(rel)
    size = os.path.getsize(path)
    # Cut inside the compressed stream (or, now and then, inside its header): the reader
    # stops with an error. Records decoded before the cut may be applied (the model cannot
    # say which): the file's ids are left out of the checks until it is rewritten.
    with open(path, "r+b") as out:
        out.truncate(rng.randrange(0, 10) if rng.random() < 0.2 else max(10, size // 2))
    files[rel].truncated = True
    return "truncate %s" % rel


def op_fix_truncated():
    rel = pick(lambda f: f.truncated)
    if not rel:
        return op_edit()
    write(rel)
    return "rewrite %s" % rel


OPS = [(op_add, 6), (op_edit, 6), (op_dup, 2), (op_delete, 3), (op_move, 2), (op_chmod, 2),
       (op_compress, 1), (op_truncate_gz, 1), (op_fix_truncated, 1)]


# ---- runs and checks ----------------------------------------------------------------------

def run_index(extra, db=DB, kill_after=None):
    cmd = RUNAS + [INDEX, "-q", "--db", db] + extra
    if "--rollback" not in extra:
        # A full build is written by 1 to 3 processes (parts merged); other runs ignore it.
        cmd += ["--jobs", str(rng.randint(1, 3))]
        cmd += [os.path.join(IN, r) for r in ROOTS]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if kill_after is not None:
        time.sleep(kill_after)
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    out, err = p.communicate(timeout=120)
    return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def dump(db):
    return checks.dump(DUMP, db)


def readable_now(rel):
    f = files.get(rel)
    if f is None:
        return False
    return f.readable and not f.truncated


def after_complete_run():
    """The model after a complete run: files read completely take their disk records; a
    file that is gone lets go of its records (a moved file is a new file)."""
    for rel in list(indexed):
        if rel not in files:
            del indexed[rel]
    for rel, f in files.items():
        if readable_now(rel):
            indexed[rel] = file_records(rel, f)


def expected():
    """id -> (file, title) of the record the rule picks, from what each file held when last
    read completely; whether some id is held by several records; the ids we cannot predict
    (those of a truncated .gz). A file that cannot be read now gives its record only when
    the index already holds it; otherwise the next file by the rule stands in (and when no
    file can stand in, the document stays as it was)."""
    claims = {}
    fuzzy = set()
    for rel, f in files.items():
        if f.truncated:
            fuzzy.update(r[0] for r in file_records(rel, f))
            fuzzy.update(r[0] for r in indexed.get(rel, []))
    for rel in sorted(indexed, key=abspath):
        recs = indexed[rel]
        for line, (rid, title, _body) in enumerate(recs, 1):
            claims.setdefault(rid, []).append((abspath(rel), line, title, rel))
    want = {}
    for rid, c in claims.items():
        c.sort()
        avail = [x for x in c if readable_now(x[3]) or prev.get(rid) == (x[3], x[2])]
        if avail:
            want[rid] = (avail[0][3], avail[0][2])
        elif rid in prev:
            want[rid] = prev[rid]
        else:
            want[rid] = (c[0][3], c[0][2])
    dups = any(len(c) > 1 for c in claims.values())
    return want, dups, fuzzy


prev = {}   # what the index held after the last check: id -> (file, title)


parse_dump = checks.parse_dump


stats = {"ops": 0, "runs": 0, "kills": 0, "killed_mid_run": 0, "rebuilds": 0, "refused": 0,
         "rollbacks": 0, "checks": 0, "clean_compares": 0, "dry_runs": 0}
pending_after_kill = [False]


def check_state(label, rc, err):
    want, dups, fuzzy = expected()
    titles = {k: v[1] for k, v in want.items()}
    prev.clear()
    prev.update(want)
    got_text = dump(DB)
    if not ok(got_text is not None, "%s: the index opens" % label, err):
        return
    got = parse_dump(got_text)
    want_ids = set(titles) - fuzzy
    got_ids = set(got) - fuzzy
    stats["checks"] += 1
    ok(got_ids == want_ids, "%s: the index holds exactly the model's ids (%d)" % (label, len(want_ids)),
       "missing %s\nextra %s\nstderr: %s" % (sorted(want_ids - got_ids)[:10],
                                             sorted(got_ids - want_ids)[:10], err))
    bad = [(i, got[i][1], titles[i]) for i in sorted(want_ids & got_ids) if got[i][1] != titles[i]]
    ok(not bad, "%s: each id holds the record the rule picks" % label,
       "id, got, want: %s\nstderr: %s" % (bad[:10], err))
    unreadable = any(not readable_now(r) for r in files)
    # Duplicates are reported by every run; an unreadable file only when the run needs to
    # read it (an unchanged file is not opened, so chmod 000 alone goes unnoticed).
    want_rc = "1" if dups else "0 or 1" if unreadable else "0"
    ok(str(rc) in want_rc.split(" or "), "%s: exit %s" % (label, want_rc), "got %d\n%s" % (rc, err))
    if not unreadable:
        scratch = os.path.join(WORK, "clean")
        shutil.rmtree(scratch, ignore_errors=True)
        os.makedirs(scratch)
        own(scratch)
        crc, _, cerr = run_index([], db=scratch)
        clean = dump(scratch)
        stats["clean_compares"] += 1
        same = clean == got_text
        detail = ""
        if not same and clean is not None:
            a, b = parse_dump(clean), got
            diff = [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
            detail = "clean vs incremental: %s\n%s" % (diff[:8], cerr)
        ok(same, "%s: equals a clean build of the same tree" % label, detail)


def step_run():
    batch = str(rng.choice([1, 2, 3, 7, 2000]))
    if rng.random() < 0.15 and not args.no_kill:
        # Killed at a random moment: compared after the next complete run.
        stats["kills"] += 1
        rc, _, _ = run_index(["--batch", batch], kill_after=rng.uniform(0.0, 0.25))
        if rc == -signal.SIGKILL:
            stats["killed_mid_run"] += 1
        # What a killed run did is checked by the complete run that follows at once.
        rc, out, err = run_index([])
        stats["runs"] += 1
        after_complete_run()
        check_state("run %d, after a run killed at a random moment" % stats["runs"], rc, err)
        return "run --batch %s, killed; run" % batch
    dry = None
    if rng.random() < 0.3:
        # A dry run first: it writes nothing, and says what the real run then does.
        before = dump(DB)
        drc, dout, derr = run_index(["--batch", batch, "--dry-run", "--json"])
        stats["dry_runs"] += 1
        ok(dump(DB) == before, "run %d: a dry run writes nothing" % (stats["runs"] + 1))
        dry = (drc, summary_counts(dout))
    rc, out, err = run_index(["--batch", batch] + (["--json"] if dry else []))
    stats["runs"] += 1
    if dry:
        ok(dry == (rc, summary_counts(out)),
           "run %d: the dry run before it said what it did (exit code and counts)" % stats["runs"],
           "dry run %r, run %r\ndry run's stderr: %s" % (dry, (rc, summary_counts(out)), derr))
    after_complete_run()
    check_state("run %d" % stats["runs"], rc, err)
    return "run --batch %s%s" % (batch, ", after a dry run" if dry else "")


def summary_counts(out):
    """The counts of a --json summary: what a dry run and the real run must agree on."""
    try:
        j = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None
    keys = ("status", "added", "updated", "deleted", "unchanged", "skipped", "unreadable",
            "duplicates", "converted", "ignored", "ignored_by_extension")
    return {k: j.get(k) for k in keys}


# The generations' model states, parallel to stack (kept apart for clarity).
stack_states = []


def main():
    for r in ROOTS:
        os.makedirs(os.path.join(IN, r), exist_ok=True)
        own(os.path.join(IN, r))
    os.chmod(WORK, 0o755)
    own(IN)
    os.makedirs(DB, exist_ok=True)
    own(DB)
    for _ in range(6):
        op_add()
    t0 = time.time()
    log = []
    ops = 0
    # The first run makes gen-000001: the bottom of the stack.
    log.append(step_run())
    stack_states.append((dict(indexed), dict(prev)))
    while ops < args.ops and time.time() - t0 < args.seconds and tap.failed == 0:
        fns, weights = zip(*OPS)
        for _ in range(rng.randrange(1, 4)):
            log.append(rng.choices(fns, weights)[0]())
            ops += 1
        x = rng.random()
        if x < 0.12:
            before = len(stack_states)
            rc_unread = any(not readable_now(r) for r in files)
            live_dump = dump(DB)
            keep = rng.choice([2, 3])
            kill = rng.uniform(0.0, 0.3) if rng.random() < 0.3 and not args.no_kill else None
            rc, out, err = run_index(["--rebuild", "--keep", str(keep)], kill_after=kill)
            stats["runs"] += 1
            now = dump(DB) if rc == -signal.SIGKILL else None
            if rc == -signal.SIGKILL and now == live_dump:
                stats["kills"] += 1
                stats["killed_mid_run"] += 1
                ok(True, "a rebuild killed at a random moment leaves the live index as it was")
                log.append("rebuild, killed")
            elif rc == -signal.SIGKILL and rc_unread:
                ok(False, "a rebuild killed at a random moment leaves the live index as it was",
                   "it changed, although an input is unreadable")
            elif rc_unread:
                stats["refused"] += 1
                ok(rc == 5, "rebuild with an unreadable input is refused (exit 5)",
                   "got %d\n%s" % (rc, err))
                ok(dump(DB) == live_dump, "a refused rebuild leaves the live index as it was")
                log.append("rebuild (refused: unreadable input)")
            elif rc == 5:
                stats["refused"] += 1
                ok(dump(DB) == live_dump, "a refused rebuild leaves the live index as it was")
                log.append("rebuild (refused by its checks)")
            else:
                # Done (or killed after it went live: then it is a complete rebuild too).
                stats["rebuilds"] += 1
                saved_dumps[before - 1] = live_dump
                indexed.clear()
                prev.clear()
                after_complete_run()
                if rc == -signal.SIGKILL:
                    stats["kills"] += 1
                    rc = 1 if expected()[1] else 0
                check_state("rebuild %d" % stats["rebuilds"], rc, err)
                stack_states.append((dict(indexed), dict(prev)))
                saved_dumps.append(None)
                while len(stack_states) > keep:
                    stack_states.pop(0)
                    saved_dumps.pop(0)
                log.append("rebuild --keep %d" % keep)
        elif x < 0.2:
            rc, out, err = run_index(["--rollback"])
            if len(stack_states) < 2:
                ok(rc == 5, "rollback with nothing below the live generation is refused (exit 5)",
                   "got %d\n%s" % (rc, err))
                log.append("rollback (refused)")
            else:
                stats["rollbacks"] += 1
                ok(rc == 0, "rollback succeeds", "got %d\n%s" % (rc, err))
                stack_states.pop()
                saved_dumps.pop()
                got = dump(DB)
                ok(got == saved_dumps[-1],
                   "rollback %d: the generation below is live again, as it was" % stats["rollbacks"],
                   "got:\n%s\nwant:\n%s" % ((got or "")[:600], (saved_dumps[-1] or "")[:600]))
                indexed.clear()
                indexed.update(stack_states[-1][0])
                prev.clear()
                prev.update(stack_states[-1][1])
                log.append("rollback")
        else:
            log.append(step_run())
            stack_states[-1] = (dict(indexed), dict(prev))
        if tap.failed:
            print("# operations so far (last 30):")
            for line in log[-30:]:
                print("#   " + line)
    # A last complete run: everything readable, every .gz whole.
    for rel, f in list(files.items()):
        if not f.readable:
            f.readable = True
            os.chmod(abspath(rel), 0o644)
        if f.truncated:
            write(rel)
    log.append(step_run())
    stats["ops"] = ops
    secs = time.time() - t0
    print("# seed %d: %d operations, %d complete runs checked (%d against a clean build), "
          "%d runs killed (%d mid-run), %d rebuilds (%d refused), %d rollbacks, %d dry runs "
          "compared, %d files at the end, %.1f s"
          % (seed, ops, stats["checks"], stats["clean_compares"], stats["kills"],
             stats["killed_mid_run"], stats["rebuilds"], stats["refused"], stats["rollbacks"],
             stats["dry_runs"], len(files), secs))
    return tap.end(args.no_plan)


saved_dumps = [None]

if __name__ == "__main__":
    sys.exit(main())
