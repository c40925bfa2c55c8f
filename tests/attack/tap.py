"""TAP output for the attack scripts (attack.py, malformed.py): one line per check, the
plan line left to the calling shell test (tests/lib.sh ends the stream)."""

TAP = [0]
FAILED = [0]


def ok(cond, desc, detail=""):
    """Prints "ok N - desc", or "not ok N - desc" with up to 20 lines of detail."""
    TAP[0] += 1
    if cond:
        print(f"ok {TAP[0]} - {desc}", flush=True)
    else:
        FAILED[0] += 1
        print(f"not ok {TAP[0]} - {desc}", flush=True)
        for line in str(detail).splitlines()[:20]:
            print(f"#   {line}", flush=True)
