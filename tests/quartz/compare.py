#!/usr/bin/python3
"""compare.py - compares Quartz's answers with jobsd's (tests/quartz/run.sh).

    compare.py INPUT QUARTZ_OUT JOBSD_OUT "Quartz 2.3.2, OpenJDK 17.0.15"

INPUT holds the questions ("zone<TAB>from_ms<TAB>n<TAB>expr", comments and empty lines
already removed), the two outputs one answer line each (QuartzNext.java, cron_diff.c).
Token by token the answers must be equal, with two documented exceptions that are counted
but are not mismatches (docs/internals/cron.md):

  - Quartz "loop" (its search never ended) against any jobsd answer: jobsd skips the month
    in which Quartz's search does not end (a later instant, or "none");
  - a Quartz fire time in year 2100 or later (in the zone) against jobsd "none": Quartz's
    '*' year runs to the current year + 100, jobsd's ends with 2099.

Prints the first 20 mismatches in full (zone, start, expression, both chains with ISO times
in the zone), a line for each further one, and the summary line; exit status 1 on any
mismatch.
"""
import datetime as dt
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen import pyzone  # noqa: E402

FULL = 20


def iso(ms, tz):
    return dt.datetime.fromtimestamp(ms / 1000, tz).isoformat()


def show(tokens, tz):
    return " ".join("%s(%s)" % (t, iso(int(t), tz)) if t.lstrip("-").isdigit() else t
                    for t in tokens)


def judge(q, j, tz):
    """(verdict, index of the first difference): ok, loop, after2099 or mismatch."""
    for i in range(max(len(q), len(j))):
        qt = q[i] if i < len(q) else None
        jt = j[i] if j and i < len(j) else None
        if qt == jt:
            if qt in ("none", "parse-error"):
                return "ok", None
            continue
        if qt == "loop":
            return "loop", i
        if jt == "none" and qt is not None and qt.isdigit() and \
                dt.datetime.fromtimestamp(int(qt) / 1000, tz).year >= 2100:
            return "after2099", i
        return "mismatch", i
    return "ok", None


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    with open(sys.argv[1]) as f:
        questions = f.read().splitlines()
    with open(sys.argv[2]) as f:
        quartz = f.read().splitlines()
    with open(sys.argv[3]) as f:
        jobsd = f.read().splitlines()
    oracle = sys.argv[4]
    if len(quartz) != len(questions) or len(jobsd) != len(questions):
        print("quartz differential: %d questions but %d Quartz and %d jobsd answers" %
              (len(questions), len(quartz), len(jobsd)))
        sys.exit(1)
    instants = 0
    counts = {"ok": 0, "loop": 0, "after2099": 0, "mismatch": 0}
    bad_instants = 0
    shown = 0
    for lineno, (qline, a, b) in enumerate(zip(questions, quartz, jobsd), 1):
        zone, from_ms, n, expr = qline.split("\t", 3)
        instants += int(n)
        tz = pyzone(zone)
        q, j = a.split(), b.split()
        verdict, i = judge(q, j, tz)
        counts[verdict] += 1
        if verdict != "mismatch":
            continue
        bad_instants += int(n) - i
        shown += 1
        if shown <= FULL:
            print("MISMATCH %d (input line %d): zone %s, from %s (%s), expr '%s'" %
                  (shown, lineno, zone, from_ms, iso(int(from_ms), tz), expr))
            print("  quartz: %s" % show(q, tz))
            print("  jobsd:  %s" % show(j, tz))
            print("  first difference at fire %d" % (i + 1))
        else:
            print("MISMATCH %d (input line %d): %s\t%s\t%s\tquartz %s\tjobsd %s" %
                  (shown, lineno, zone, from_ms, expr, a, b))
    print("expected differences (not mismatches): %d chains where Quartz loops and jobsd "
          "skips that month; %d chains where Quartz goes past 2099 and jobsd gives none" %
          (counts["loop"], counts["after2099"]))
    if counts["mismatch"]:
        print("%d of the %d instants differ or follow a difference" % (bad_instants, instants))
    print("quartz differential: %d expressions, %d instants, %d mismatches (%s)" %
          (len(questions), instants, counts["mismatch"], oracle))
    sys.exit(1 if counts["mismatch"] else 0)


if __name__ == "__main__":
    main()
