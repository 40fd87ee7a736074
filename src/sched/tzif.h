/* tzif.h - time zones from the system tz database, read by our own code.
 *
 * A struct tzif is one zone, loaded from its TZif file (RFC 8536, versions
 * 1 to 4: the 64-bit block and the POSIX TZ footer that extends the table
 * past its last transition) or made from a fixed offset ("GMT+05:30"). Once
 * loaded it is immutable, so any number of threads may read it at once; no
 * process state is touched: no setting of TZ, no tzset, no libc local time.
 *
 * Two questions are answered:
 *   - tzif_offset_at(): the offset from UTC in force at an instant;
 *   - tzif_offset_for_wall(): the offset java.util.GregorianCalendar picks
 *     for a local wall-clock time, which is how Quartz turns the wall times
 *     it computes into instants. A wall time inside a spring-forward gap
 *     takes the offset before the transition (02:30 becomes 03:30 after
 *     it), and one inside a fall-back overlap takes the offset after the
 *     transition (the later of the two instants). docs/internals/cron.md
 *     shows the derivation from OpenJDK's ZoneInfo.
 *
 * struct tzdb caches loaded zones by the id asked for (any id sched/tz.h
 * accepts; an alias and its zone are two entries) behind a mutex: zones are
 * loaded once and live as long as the tzdb.
 *
 * Times are seconds since the epoch; offsets are seconds east of UTC.
 */
#ifndef JOBSD_SCHED_TZIF_H
#define JOBSD_SCHED_TZIF_H

#include <stddef.h>
#include <stdint.h>

struct tzif;
struct tzdb;

/* Largest TZif file read; the largest in tzdata is under 4 KiB (fat: 10). */
#define TZIF_MAX_FILE (256 * 1024)

/* Parses a TZif image (buf, len bytes). 0 and *out, or -1 with a message. */
int tzif_parse(const unsigned char *buf, size_t len, struct tzif **out, char *err, size_t errlen);
/* Reads and parses the file at path. */
int tzif_load_file(const char *path, struct tzif **out, char *err, size_t errlen);
/* A zone that is always utc_offset seconds east of UTC. */
int tzif_fixed(int32_t utc_offset, struct tzif **out);
void tzif_free(struct tzif *z);

/* The offset in force at instant t. */
int32_t tzif_offset_at(const struct tzif *z, int64_t t);
/* The offset GregorianCalendar uses for wall time w (local seconds since
 * 1970-01-01T00:00 local): the instant is w - offset. */
int32_t tzif_offset_for_wall(const struct tzif *z, int64_t w);

/* Opens a cache over the tz database at zoneinfo_dir (NULL: the system's). */
struct tzdb *tzdb_open(const char *zoneinfo_dir);
void tzdb_close(struct tzdb *db);
/* The zone for id (any id tz_id_check() accepts: IANA, Java alias, GMT+hh:mm).
 * Returns it (owned by db, valid until tzdb_close), or NULL with a message
 * for people in err (unknown id, unreadable or malformed file). */
const struct tzif *tzdb_get(struct tzdb *db, const char *id, char *err, size_t errlen);

#endif
