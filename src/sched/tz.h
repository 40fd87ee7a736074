/* tz.h - checks a schedule's timezone_id the way Java's TimeZone reads it.
 *
 * Databricks reads CronSchedule.timezone_id with java.util.TimeZone, which
 * silently turns an unknown id into GMT. jobsd refuses unknown ids instead
 * (400 INVALID_PARAMETER_VALUE) and accepts what Java accepts and this
 * machine's tz database can serve:
 *   - IANA names that are TZif files under the zoneinfo directory
 *     ("America/New_York", "Europe/London", "UTC", "Etc/GMT+5" - whose sign
 *     is POSIX's, i.e. UTC-5), except the files Java does not know (posix/,
 *     right/, posixrules, localtime, Factory, ROC);
 *   - custom offsets "GMT+h", "GMT+hh", "GMT+hhmm", "GMT+hh:mm" (and "GMT-"),
 *     hours 0-23 and minutes 0-59 as Java parses them; here "+" is east of
 *     UTC, so "GMT+5" is UTC+5, the opposite of "Etc/GMT+5";
 *   - Java's legacy three-letter ids (PST, EST, IST, ECT...) and its
 *     fixed-offset SystemV ids, mapped to the IANA zone Java uses for them.
 * Not accepted: "Z" and "utc" (Java maps them to GMT only because it maps
 * every unknown id to GMT), and the SystemV ids with daylight saving, whose
 * frozen 1980s US rules no tz database carries any more.
 *
 * No TZif parsing here beyond the 4-byte magic; sched/tzif (later) reads the
 * file that the canonical id names.
 * Threads: no global state, only constant tables; any thread.
 */
#ifndef JOBSD_SCHED_TZ_H
#define JOBSD_SCHED_TZ_H

#include <stddef.h>
#include <stdint.h>

/* Longest id accepted (bytes, NUL excluded); the longest real one is 32. */
#define TZ_ID_MAX 255
/* A canonical buffer of this size is always large enough. */
#define TZ_CANONICAL_MAX (TZ_ID_MAX + 1)
#define TZ_ZONEINFO_DIR	 "/usr/share/zoneinfo"

/* Checks id. zoneinfo_dir is the tz database root (NULL: TZ_ZONEINFO_DIR).
 * Returns 0 if id is accepted, and writes to canonical (n bytes, NUL
 * included) the id to use from then on, which is one of:
 *   - an IANA name whose TZif file exists under zoneinfo_dir (the id itself,
 *     or the zone a legacy alias stands for: "PST" -> "America/Los_Angeles");
 *   - a fixed offset in Java's normal form "GMT+hh:mm" / "GMT-hh:mm"
 *     ("GMT+5" -> "GMT+05:00"), which has no file: see tz_fixed_offset().
 * Returns -1 if id is not accepted, or if the canonical id does not fit in n
 * bytes (canonical is then the empty string when n > 0). */
int tz_id_check(const char *id, const char *zoneinfo_dir, char *canonical, size_t n);

/* If canonical is a fixed offset as written by tz_id_check() ("GMT+05:30"),
 * stores its offset from UTC in seconds (east positive: +19800) and returns
 * 0; returns -1 for anything else (such as an IANA name). */
int tz_fixed_offset(const char *canonical, int32_t *utc_offset_s);

#endif
