#!/usr/bin/python3
"""gen.py - generates the questions of the Quartz differential test (tests/quartz/run.sh).

Prints COUNT lines "zone<TAB>from_ms<TAB>5<TAB>expr" (the protocol of QuartzNext.java and
cron_diff.c), the same lines for the same seed. Every expression is valid for both Quartz
2.3.2 and jobsd: none of the forms jobsd refuses on purpose (docs/internals/cron.md, "Where
we differ": no steps after names, no empty list elements, no 0 as a range end in the 1-based
fields, no W or # in lists, years 1970-2099 ...).

Coverage: every syntax element (lists, ranges and wrapping ranges, the four step forms,
names, L, L-n, LW, L-nW, nW, dL, d#n, a lone L in day-of-week, the year field), dense and
sparse times, in zones with ordinary, half-hour, 45-minute and midnight DST transitions,
fixed offsets and Java's aliases. Start instants: random ones (1971-2036), ones just before,
at and after each DST transition (in the repeated hour of a fall-back: first and second
pass), leap-day neighbourhoods, month ends, Pacific/Apia around its skipped 2011-12-30, and
2037-2041 (past the TZif tables, where the POSIX footer rules apply).

Asia/Tehran starts in 1979 or later: the JDK's tzdata (2025a) and the system's (2025b)
differ there in late 1978 (see TEHRAN_1979).

Kept out, because Quartz's search never ends there (handpicked.txt has them instead):
L-nW with n > 27, and the W forms whose weekday would be Pacific/Apia's missing Friday
2011-12-30 (LW, L-0W, 31W) for start instants up to 2011.

    /usr/bin/python3 tests/quartz/gen.py [--seed S] [--count N]

Standard library only (zoneinfo reads the system's tz database for the DST transitions).
"""
import argparse
import datetime as dt
import functools
import random
import sys
import zoneinfo

N_CHAIN = 5

# Zones of the test; the aliases and the custom id are Java's (sched/tz.c maps them).
ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Pacific/Chatham",
         "Asia/Kolkata", "Pacific/Apia", "America/Sao_Paulo", "Europe/Berlin",
         "America/Los_Angeles", "Asia/Tehran", "America/St_Johns", "Australia/Sydney",
         "GMT+05:30", "Etc/GMT+5", "EST", "PST"]
# Zones whose rules have been stable for decades: used for instants past 2037.
STABLE = ["America/New_York", "Europe/London", "Europe/Berlin", "Australia/Sydney",
          "America/Los_Angeles", "Australia/Lord_Howe", "Pacific/Chatham"]

# Day-of-month forms whose weekday in December 2011 is Friday the 30th, a day Pacific/Apia
# skipped: Quartz's search never ends on them (handpicked.txt has them). L-1W and 30W, which
# also name the 30th, do end (Quartz gives the 29th).
APIA_LOOPS = {"LW", "L-0W", "31W"}

# OpenJDK 17.0.15 carries tzdata 2025a, Debian tzdata 2025b: they differ in one place among
# these zones (2025b: Iran went from +04 to +03:30 on 1978-11-10 at 24:00, not at the end of
# 1978). Chains in Asia/Tehran therefore start in 1979 or later; every other transition of
# every zone above, 1970-2099, is the same in both (checked with java.time's ZoneRules).
TEHRAN_1979 = int(dt.datetime(1979, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=3.5))).timestamp())

MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


def pyzone(zone):
    """The tzinfo Python uses for a test zone (Java's ids mapped as sched/tz.c does)."""
    if zone.startswith("GMT") and len(zone) > 3:
        sign = -1 if zone[3] == "-" else 1
        h, m = zone[4:].split(":")
        return dt.timezone(sign * dt.timedelta(hours=int(h), minutes=int(m)))
    return zoneinfo.ZoneInfo({"EST": "Etc/GMT+5", "PST": "America/Los_Angeles"}.get(zone, zone))


def offset_at(tz, t):
    return int(dt.datetime.fromtimestamp(t, tz).utcoffset().total_seconds())


def local_to_utc(tz, y, mo, d, h=0, mi=0, s=0):
    """The instant of a local wall time (for a gap or overlap: Python's fold=0 choice)."""
    return int(dt.datetime(y, mo, d, h, mi, s, tzinfo=tz).timestamp())


@functools.lru_cache(maxsize=None)
def transitions(zone, y0=1971, y1=2042):
    """[(t, offset before, offset after)] for the zone's offset changes in [y0, y1)."""
    tz = pyzone(zone)
    t = int(dt.datetime(y0, 1, 1, tzinfo=dt.timezone.utc).timestamp())
    end = int(dt.datetime(y1, 1, 1, tzinfo=dt.timezone.utc).timestamp())
    out = []
    prev = offset_at(tz, t)
    step = 86400 // 2
    while t < end:
        n = t + step
        off = offset_at(tz, n)
        if off != prev:
            lo, hi = t, n  # offset(lo) == prev, offset(hi) != prev
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if offset_at(tz, mid) == prev:
                    lo = mid
                else:
                    hi = mid
            out.append((hi, prev, offset_at(tz, hi)))
            # Two changes within one step are not expected in these zones; resync.
            prev = offset_at(tz, n)
        t = n
    return out


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def pick(self, seq):
        return self.r.choice(seq)

    def w(self, pairs):
        """Picks from [(weight, value or callable)]."""
        total = sum(p[0] for p in pairs)
        x = self.r.uniform(0, total)
        for weight, v in pairs:
            x -= weight
            if x <= 0:
                return v() if callable(v) else v
        v = pairs[-1][1]
        return v() if callable(v) else v

    # --- numeric fields (seconds, minutes, hours, and the numeric parts of the others) ----------
    def num(self, lo, hi, names=None, lead_zero=False):
        v = self.r.randint(lo, hi)
        if names and self.r.random() < 0.5:
            name = names[v - lo]
            return self.pick([name, name.lower(), name.capitalize()])
        if lead_zero and v < 10 and self.r.random() < 0.1:
            return "0%d" % v
        return str(v)

    def rng(self, lo, hi, names=None, wrap=True):
        """a-b, wrapping (b < a) when the field allows it."""
        a = self.r.randint(lo, hi)
        b = self.r.randint(lo, hi)
        if not wrap and b < a:
            a, b = b, a
        if names and self.r.random() < 0.5:
            return "%s-%s" % (names[a - lo], names[b - lo])
        return "%d-%d" % (a, b)

    def step(self, lo, hi, cap):
        """One of */n, a/n, a-b/n, /n (numbers only: jobsd refuses a step after a name)."""
        kind = self.r.randint(0, 3)
        n = self.r.randint(1, cap)
        if kind == 0:
            return "*/%d" % n
        if kind == 1:
            return "%d/%d" % (self.r.randint(lo, hi), n)
        if kind == 2:
            a = self.r.randint(lo, hi)
            b = self.r.randint(lo, hi)
            # a-b/n has no cap in Quartz: sometimes a step past the range's width.
            n = self.r.randint(1, cap if self.r.random() < 0.9 else 3 * (hi - lo + 1))
            return "%d-%d/%d" % (a, b, n)
        return "/%d" % n

    def term(self, lo, hi, cap, names=None):
        return self.w([(5, lambda: self.num(lo, hi, names, True)),
                       (2, lambda: self.rng(lo, hi, names)),
                       (2, lambda: self.step(lo, hi, cap))])

    def lst(self, lo, hi, cap, names=None):
        return ",".join(self.term(lo, hi, cap, names) for _ in range(self.r.randint(2, 4)))

    def field(self, lo, hi, cap, names=None, star=1.0, single=3.0):
        return self.w([(star, "*"),
                       (single, lambda: self.num(lo, hi, names, True)),
                       (1.5, lambda: self.rng(lo, hi, names)),
                       (2, lambda: self.step(lo, hi, cap)),
                       (2, lambda: self.lst(lo, hi, cap, names))])

    def sec_min(self, zero):
        return self.w([(zero, "0"), (3, lambda: self.field(0, 59, 59))])

    def hours(self):
        return self.w([(2, lambda: self.num(0, 23)),
                       (1, lambda: self.pick(["0", "1", "2", "3", "1,2,3", "22-2", "0-3"])),
                       (4, lambda: self.field(0, 23, 23))])

    # --- day fields ---------------------------------------------------------------------------
    def dom_special(self):
        return self.w([(2, "L"),
                       (2, lambda: "L-%d" % self.r.randint(0, 30)),
                       (1, lambda: "L-%d" % self.pick([1, 2, 3, 27, 28, 29, 30])),
                       (2, "LW"),
                       (2, lambda: "L-%dW" % self.r.randint(0, 27)),
                       (3, lambda: "%dW" % self.r.randint(1, 31)),
                       (2, lambda: "%dW" % self.pick([1, 2, 15, 28, 29, 30, 31]))])

    def dom(self):
        return self.w([(3, "*"),
                       (1, lambda: self.pick(["1", "15", "28", "29", "30", "31", "30-2", "25-5"])),
                       (4, lambda: self.field(1, 31, 31, star=0)),
                       (4, self.dom_special)])

    def dow_special(self):
        def day():
            d = self.r.randint(1, 7)
            return self.pick([str(d), DAYS[d - 1], DAYS[d - 1].lower()])
        return self.w([(2, lambda: day() + "L"),
                       (3, lambda: "%s#%d" % (day(), self.r.randint(1, 5))),
                       (1, "L")])

    def dow(self):
        return self.w([(2, "*"),
                       (1, lambda: self.pick(["MON-FRI", "SAT,SUN", "FRI-MON", "6-2", "2-6/2",
                                              "1", "SUN", "7"])),
                       (4, lambda: self.field(1, 7, 7, DAYS, star=0)),
                       (3, self.dow_special)])

    def days(self, special_bias=1.0):
        """(day-of-month, day-of-week): exactly one of them is '?'."""
        if self.r.random() < 0.55:
            return (self.dom() if self.r.random() > 0.3 * special_bias else self.dom_special(),
                    "?")
        return "?", self.dow() if self.r.random() > 0.3 * special_bias else self.dow_special()

    def month(self):
        return self.w([(6, "*"), (3, lambda: self.field(1, 12, 12, MONTHS, star=0))])

    def year(self, y):
        """An optional year field around year y (mostly absent)."""
        def yr(lo_d, hi_d):
            return min(2099, max(1970, y + self.r.randint(lo_d, hi_d)))

        def rng():
            a = yr(-1, 3)
            return "%d-%d" % (a, min(2099, a + self.r.randint(0, 6)))

        def stp():
            k = self.r.randint(0, 2)
            if k == 0:
                return "%d/%d" % (yr(-2, 2), self.r.randint(1, 5))
            if k == 1:
                return "*/%d" % self.r.randint(1, 4)
            a = yr(-2, 1)
            return "%d-%d/%d" % (a, min(2099, a + self.r.randint(2, 12)), self.r.randint(1, 4))

        def lst():
            return ",".join(self.pick([lambda: str(yr(-1, 4)), rng, stp])()
                            for _ in range(self.r.randint(2, 3)))
        return self.w([(14, None), (1, "*"), (2, lambda: str(yr(0, 3))), (1.5, rng),
                       (1.5, stp), (1, lst)])

    def expr(self, y, profile="general"):
        if profile == "dst" and self.r.random() < 0.15:
            # Every second or every minute, in hours around the transitions or all day.
            return self.pick(["* * * * * ?", "* * 0-4 * * ?", "* * 1,2,3 ? * *", "* * 22-2 * * ?",
                              "0 * * * * ?", "0 * 0-3 * * ?", "0 * 1-2 ? * *", "30 * * * * ?",
                              "* 0-5,55-59 * * * ?", "* 30-59 1 * * ?"])
        if profile == "dst":
            s = self.pick(["0"] * 6 + ["*", "0/30", "0,30", "*/15", "59", "30", "0-5"])
            m = self.pick(["0", "0", "30", "*", "0/15", "*/30", "45", "15,45", "0/5", "59",
                           "0-59/20", "1", "30-45"])
            h = self.pick(["*", "*", "0", "1", "2", "3", "1,2,3", "0-3", "22-2", "0/2", "*/3",
                           "1-2", "2-3", "23,0,1", "0,1", "4", "2,3"])
            if self.r.random() < 0.7:
                days = self.pick([("*", "?"), ("?", "*"), ("*", "?")])
            else:
                days = self.pick([("?", "SUN"), ("?", "1"), ("?", "1#2"), ("?", "1L"),
                                  ("?", "1#1"), ("L", "?"), ("?", "SAT,SUN"), ("1-15", "?"),
                                  ("?", "FRI-MON"), ("?", "6L"), ("LW", "?")])
            mon = self.pick(["*"] * 5 + ["MAR", "NOV", "OCT", "APR", "SEP", "3,11", "FEB-APR"])
            yr = self.pick([None] * 5 + [str(y), "%d-%d" % (y, min(2099, y + 2))])
        else:
            dense = self.r.random() < 0.15
            s = self.sec_min(2 if dense else 12)
            m = self.sec_min(2 if dense else 6)
            h = self.hours() if dense or self.r.random() < 0.6 else self.num(0, 23)
            days = self.days(2.0 if profile == "days" else 1.0)
            mon = self.month()
            yr = self.year(y)
        f = [s, m, h, days[0], mon, days[1]]
        if yr is not None:
            f.append(yr)
        return " ".join(f)

    # --- start instants -------------------------------------------------------------------------
    def rand_instant(self, y0=1971, y1=2036):
        a = int(dt.datetime(y0, 1, 1, tzinfo=dt.timezone.utc).timestamp())
        b = int(dt.datetime(y1 + 1, 1, 1, tzinfo=dt.timezone.utc).timestamp())
        return self.r.randrange(a, b)

    def near_transition(self, zone, y0=1971, y1=2036):
        tr = [x for x in transitions(zone) if y0 <= dt.datetime.fromtimestamp(
            x[0], dt.timezone.utc).year <= y1]
        if not tr:
            return None
        # Recent transitions (the rules in force now) count double.
        t, before, after = self.pick(tr + [x for x in tr if x[0] > 1.1e9])
        gap = abs(before - after)
        ks = [-1, -2, -5, -59, -60, -61, -600, -1799, -1800, -3599, -3600, -3601, -5400,
              -7200, -10800, -21600, -43200, -86400, 0, 1, 60, 3600]
        if after < before:  # fall-back: the repeated wall times, first and second pass
            ks += [-gap, -gap + 1, -gap // 2, -1, 0, 1, gap // 2, gap - 1, gap, gap + 1]
        return t + self.pick(ks)

    def leap_instant(self, zone):
        tz = pyzone(zone)
        y = self.pick([1972, 1976, 1984, 1996, 1999, 2000, 2001, 2003, 2004, 2012, 2019, 2020,
                       2023, 2024, 2025, 2028, 2032, 2036, 2096])
        mo, d, h, mi, s = self.pick([(2, 27, 23, 59, 59), (2, 28, 0, 0, 0), (2, 28, 12, 0, 0),
                                     (2, 28, 23, 59, 59), (2, 28, 23, 0, 0), (2, 1, 0, 0, 0),
                                     (1, 31, 23, 59, 59), (3, 1, 0, 0, 0)])
        if y % 4 == 0 and self.r.random() < 0.4:
            mo, d, h, mi, s = self.pick([(2, 29, 0, 0, 0), (2, 29, 23, 59, 59),
                                         (2, 29, 12, 0, 0)])
        return local_to_utc(tz, y, mo, d, h, mi, s) - self.pick([0, 1, 60, 3600])

    def month_end_instant(self, zone):
        tz = pyzone(zone)
        y = self.r.randint(1971, 2035)
        mo = self.r.randint(1, 12)
        nxt = dt.date(y + (mo == 12), mo % 12 + 1, 1) - dt.timedelta(days=1)
        d = self.pick([nxt.day, nxt.day - 1, nxt.day - 2, 1, 14, 15])
        return local_to_utc(tz, y, mo, d, self.pick([0, 12, 23]), 0, 0) - self.pick([0, 1, 30])

    def apia_instant(self):
        tz = pyzone("Pacific/Apia")
        d = self.pick([(2011, 12, 28), (2011, 12, 29), (2011, 12, 31), (2012, 1, 1),
                       (2011, 12, 1), (2011, 11, 30), (2011, 12, 27)])
        return local_to_utc(tz, *d, self.r.randint(0, 23), self.pick([0, 30, 59]),
                            self.pick([0, 59])) - self.pick([0, 1, 3600])

    def line(self):
        """One test line: (zone, from_ms, expr)."""
        kind = self.w([(38, "random"), (32, "dst"), (9, "leap"), (6, "monthend"),
                       (7, "apia"), (8, "future")])
        profile = "general"
        zone = self.pick(ZONES)
        t = None
        if kind == "dst":
            zone = self.pick([z for z in ZONES if transitions(z)])
            t = self.near_transition(zone, 1979 if zone == "Asia/Tehran" else 1971)
            profile = "dst" if self.r.random() < 0.7 else "general"
        elif kind == "leap":
            t = self.leap_instant(zone)
            profile = "days"
        elif kind == "monthend":
            t = self.month_end_instant(zone)
            profile = "days"
        elif kind == "apia":
            zone = "Pacific/Apia"
            t = self.apia_instant()
            profile = self.pick(["general", "days", "dst"])
        elif kind == "future":
            zone = self.pick(STABLE)
            if self.r.random() < 0.5:
                t = self.near_transition(zone, 2037, 2040)
                profile = "dst" if self.r.random() < 0.7 else "general"
            else:
                t = self.rand_instant(2037, 2040)
        if t is None or (zone == "Asia/Tehran" and t < TEHRAN_1979):
            t = self.rand_instant(1979 if zone == "Asia/Tehran" else 1971)
        y = dt.datetime.fromtimestamp(t, dt.timezone.utc).year
        while True:
            e = self.expr(y, profile)
            if zone == "Pacific/Apia" and y <= 2011 and e.split()[3] in APIA_LOOPS:
                continue  # Quartz loops: see handpicked.txt
            return zone, t * 1000, e


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=20261121)
    ap.add_argument("--count", type=int, default=10000)
    args = ap.parse_args()
    g = Gen(args.seed)
    out = sys.stdout
    for _ in range(args.count):
        zone, ms, e = g.line()
        out.write("%s\t%d\t%d\t%s\n" % (zone, ms, N_CHAIN, e))


if __name__ == "__main__":
    main()
