"""`jobsd cron next`: the schedule preview on the command line (src/sched/preview.h).

    jobsd cron next EXPR --tz ZONE [--from ISO8601] [-n N]

prints N lines "ISO8601-with-offset epochms", strictly after --from. The fire times are held
to Quartz 2.3.2 itself (tests/quartz/QuartzNext.java on OpenJDK 17, installed by
scripts/install-deps.sh --test) over the two 2026 DST weeks of America/New_York, every line
compared; the ISO text is checked against Python's zoneinfo. Errors exit 2 with the API's
message on stderr.
"""
import datetime as dt
import os
import re
import subprocess
import time
import zoneinfo

import pytest

from conftest import JOBSD, ROOT, sanitizer_report

JDK = "/usr/lib/jvm/java-17-openjdk-amd64/bin"
QUARTZ_JAR = "/usr/share/java/quartz2.jar"
NY = zoneinfo.ZoneInfo("America/New_York")
LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d) (\d+)$")

# The two DST weeks of 2026 in New York (2026-03-08 02:00 EST -> 03:00 EDT, 2026-11-01
# 02:00 EDT -> 01:00 EST) and the expressions the issue names.
WEEKS = [("2026-03-05T00:00:00-05:00", "2026-03-12T00:00:00-04:00"),
         ("2026-10-29T00:00:00-04:00", "2026-11-05T00:00:00-05:00")]
DST_EXPRS = ["0 30 2 * * ?", "0 0/30 * * * ?", "0 0 * * * ?", "0 30 1 * * ?",
             "0 15 10 ? * MON-FRI"]


def ms_of(iso):
    return int(dt.datetime.fromisoformat(iso).timestamp() * 1000)


def cron(*args, check=True):
    """Runs `jobsd cron next ARGS`; returns the CompletedProcess."""
    p = subprocess.run([JOBSD, "cron", "next", *args], capture_output=True, text=True,
                       timeout=60)
    report = sanitizer_report(p.stderr)
    assert report is None, f"sanitizer: {report}\n{p.stderr[-4000:]}"
    if check:
        assert p.returncode == 0, (args, p.returncode, p.stdout, p.stderr)
    return p


def fires(*args):
    """The (iso, ms) lines of a successful `jobsd cron next`, each checked for form."""
    out = []
    for line in cron(*args).stdout.splitlines():
        m = LINE.match(line)
        assert m, f"malformed line {line!r} for {args}"
        out.append((m.group(1), int(m.group(2))))
    return out


def iso_in(ms, tz):
    return dt.datetime.fromtimestamp(ms / 1000, tz).isoformat()


@pytest.fixture(scope="module")
def quartz(tmp_path_factory):
    """ask([(zone, from_ms, n, expr)]) -> [[ms, ...]]: Quartz 2.3.2's answers."""
    if not (os.path.exists(f"{JDK}/javac") and os.path.exists(QUARTZ_JAR)):
        pytest.skip("OpenJDK 17 or libquartz2-java missing (scripts/install-deps.sh --test "
                    "installs them): no Quartz to compare with")
    classes = tmp_path_factory.mktemp("quartz")
    subprocess.run([f"{JDK}/javac", "-nowarn", "-d", str(classes), "-cp", QUARTZ_JAR,
                    str(ROOT / "tests" / "quartz" / "QuartzNext.java")], check=True,
                   capture_output=True, timeout=120)

    def ask(questions):
        text = "".join(f"{z}\t{f}\t{n}\t{e}\n" for z, f, n, e in questions)
        p = subprocess.run([f"{JDK}/java", "-cp", f"{QUARTZ_JAR}:{classes}", "QuartzNext"],
                           input=text, capture_output=True, text=True, timeout=120,
                           check=True)
        answers = []
        for line in p.stdout.splitlines():
            tokens = line.split()
            assert all(t.isdigit() for t in tokens), f"Quartz answered {line!r}"
            answers.append([int(t) for t in tokens])
        assert len(answers) == len(questions)
        return answers
    return ask


def test_dst_weeks_match_quartz(quartz):
    """Every fire of each expression through both New York DST weeks, and one past the end,
    is Quartz's instant, with the wall time and offset of that instant in the zone."""
    cases = [(w, e) for w in WEEKS for e in DST_EXPRS]
    # Enough fires to cover the densest expression's week (48 a day) and then some.
    answers = quartz([("America/New_York", ms_of(w[0]), 400, e) for w, e in cases])
    for ((start, end), expr), want in zip(cases, answers):
        in_week = [t for t in want if t < ms_of(end)]
        n = len(in_week) + 1
        assert len(in_week) >= 3, (expr, start)
        got = fires(expr, "--tz", "America/New_York", "--from", start, "-n", str(n))
        assert [ms for _, ms in got] == want[:n], (expr, start, got, want[:n])
        assert [iso for iso, _ in got] == [iso_in(ms, NY) for ms in want[:n]], (expr, start)


def test_dst_specifics():
    """What the week comparison implies, spelled out."""
    # 02:30 does not exist on 2026-03-08: Quartz (and jobsd) skip that day.
    got = fires("0 30 2 * * ?", "--tz", "America/New_York", "--from",
                "2026-03-07T12:00:00-05:00", "-n", "2")
    assert [iso for iso, _ in got] == ["2026-03-09T02:30:00-04:00", "2026-03-10T02:30:00-04:00"]
    # The example of the contract.
    assert fires("0 0 3 * * ?", "--tz", "America/New_York", "--from",
                 "2026-03-08T01:00:00-05:00", "-n", "1") == \
        [("2026-03-08T03:00:00-04:00", 1772953200000)]
    # Hourly across the gap: 01:00 EST, then 03:00 EDT.
    got = fires("0 0 * * * ?", "--tz", "America/New_York", "--from",
                "2026-03-08T00:30:00-05:00", "-n", "3")
    assert [iso for iso, _ in got] == ["2026-03-08T01:00:00-05:00", "2026-03-08T03:00:00-04:00",
                                       "2026-03-08T04:00:00-04:00"]


def test_from_forms(quartz):
    """--from as Z, as an offset, and as epoch milliseconds; always strictly after."""
    expr = "0 0/30 * * * ?"
    base = ms_of("2026-03-08T06:00:00+00:00")  # 01:00 EST, itself a fire time
    forms = ["2026-03-08T06:00:00Z", "2026-03-08T01:00:00-05:00", str(base)]
    results = [fires(expr, "--tz", "America/New_York", "--from", f, "-n", "4") for f in forms]
    assert results[0] == results[1] == results[2]
    want = quartz([("America/New_York", base, 4, expr)])[0]
    assert [ms for _, ms in results[0]] == want
    assert results[0][0][1] > base  # strictly after, though 01:00 is a fire time
    assert results[0][0][0] == "2026-03-08T01:30:00-05:00"
    # Any instant, not only whole minutes; milliseconds count.
    got = fires("* * * * * ?", "--tz", "UTC", "--from", str(base + 1), "-n", "2")
    assert [ms for _, ms in got] == [base + 1000, base + 2000]
    # A local time without an offset is read in the zone.
    assert fires(expr, "--tz", "America/New_York", "--from", "2026-03-08T01:00:00",
                 "-n", "4") == results[0]


def test_other_zones_and_aliases(quartz):
    """Java's ids: a custom offset, the PST alias, a 30-minute DST zone, midnight gaps."""
    cases = [("GMT+05:30", "2026-01-01T00:00:00Z", "0 0 0 L * ?"),
             ("PST", "2026-11-01T07:00:00Z", "0 0/30 1 * * ?"),
             ("Australia/Lord_Howe", "2026-10-03T14:00:00Z", "0 0/15 * * * ?"),
             ("America/Sao_Paulo", "2018-11-03T02:00:00Z", "0 0 0 * * ?"),
             ("Pacific/Apia", "2011-12-28T10:00:00Z", "0 0 12 * * ?")]
    answers = quartz([(z, ms_of(f.replace("Z", "+00:00")), 6, e) for z, f, e in cases])
    for (zone, start, expr), want in zip(cases, answers):
        got = fires(expr, "--tz", zone, "--from", start, "-n", "6")
        assert [ms for _, ms in got] == want, (zone, expr, got, want)
    got = fires("0 0 0 1 * ?", "--tz", "GMT+05:30", "--from", "2026-01-01T00:00:00Z", "-n", "1")
    assert got == [("2026-02-01T00:00:00+05:30", ms_of("2026-02-01T00:00:00+05:30"))]


def test_defaults():
    """Without --from the instants follow now; without -n there are 10."""
    before = int(time.time() * 1000)
    got = fires("0 * * * * ?", "--tz", "UTC")
    assert len(got) == 10
    assert before < got[0][1] <= before + 61_000
    assert all(b[1] - a[1] == 60_000 for a, b in zip(got, got[1:]))


def test_fewer_fires_than_asked():
    """A schedule that ends prints what there is and exits 0."""
    got = fires("0 0 0 1 1 ? 2030", "--tz", "UTC", "--from", "2026-01-01T00:00:00Z",
                "-n", "5")
    assert got == [("2030-01-01T00:00:00+00:00", ms_of("2030-01-01T00:00:00+00:00"))]
    assert fires("0 0 0 30 2 ?", "--tz", "UTC", "--from", "2026-01-01T00:00:00Z") == []


@pytest.mark.parametrize("expr, why", [
    ("0 0 12 * *", "expected 6 or 7 fields, got 5"),
    ("0 0 12 * * *", "one of them must be '?'"),
    ("0 0 12 32 * ?", "value 32 out of range 1-31"),
    ("0 0 12 ? * MON-FRI/2", "day-of-week"),
])
def test_invalid_expression(expr, why):
    p = cron(expr, "--tz", "UTC", check=False)
    assert p.returncode == 2, (expr, p.stdout, p.stderr)
    assert p.stdout == ""
    assert "Invalid quartz_cron_expression" in p.stderr and why in p.stderr, p.stderr


@pytest.mark.parametrize("zone", ["Mars/Olympus", "posixrules", "Z", "../etc/passwd", ""])
def test_invalid_zone(zone):
    p = cron("0 0 12 * * ?", "--tz", zone, check=False)
    assert p.returncode == 2, (zone, p.stdout, p.stderr)
    assert p.stdout == ""
    assert "Invalid timezone_id" in p.stderr, p.stderr


@pytest.mark.parametrize("args", [
    ["0 0 12 * * ?"],                                            # no --tz
    ["0 0 12 * * ?", "--tz", "UTC", "--from", "yesterday"],
    ["0 0 12 * * ?", "--tz", "UTC", "--from", "2026-13-01T00:00:00Z"],
    ["0 0 12 * * ?", "--tz", "UTC", "-n", "abc"],
    ["0 0 12 * * ?", "--tz", "UTC", "-n", "-1"],
    ["0 0 12 * * ?", "--tz", "UTC", "-n", "0"],
    ["0 0 12 * * ?", "--tz", "UTC", "-n", "10001"],                # at most 10000
    ["0 0 12 * * ?", "--tz", "UTC", "--bogus"],
    [],                                                           # no expression
])
def test_invalid_options(args):
    p = cron(*args, check=False)
    assert p.returncode == 2, (args, p.stdout, p.stderr)
    assert p.stdout == "" and p.stderr.strip(), (args, p.stdout, p.stderr)
