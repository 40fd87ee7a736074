/* tzif_fuzz.c - libFuzzer target for the TZif reader (sched/tzif.h) and the
 * --from parser of `jobsd cron next` (sched/preview.h).
 *
 * tzif_parse() reads files from the tz database, which an administrator can
 * point anywhere; it must refuse any malformed image without reading past
 * it. On an image it accepts, every lookup answers an offset within a day
 * and a wall time resolves to an instant whose offset is one of the two
 * around it. The same bytes as text go through cron_parse_instant().
 *
 * Seeds: fuzz/corpus/tzif/ (a few tzdata files, public domain).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sched/preview.h"
#include "sched/tzif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                  \
	do {                         \
		if (!(cond))         \
			abort();     \
	} while (0)

static void check_zone(const struct tzif *z)
{
	static const int64_t probes[] = {-4000000000LL, 0,	   1773000000,	1793500000,
					 2147483647,	4102444800, 9000000000LL, -1};
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		int32_t off = tzif_offset_at(z, probes[i]);
		CHECK(off >= -26 * 3600 && off <= 26 * 3600);
		off = tzif_offset_for_wall(z, probes[i]);
		CHECK(off >= -26 * 3600 && off <= 26 * 3600);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tzif *z = NULL;
	char err[128];
	memset(err, 'x', sizeof(err));
	if (tzif_parse(data, size, &z, err, sizeof(err)) == 0) {
		CHECK(z != NULL);
		check_zone(z);
	} else {
		CHECK(z == NULL && memchr(err, '\0', sizeof(err)) != NULL);
	}

	char *text = malloc(size + 1);
	if (text) {
		memcpy(text, data, size);
		text[size] = '\0';
		struct tzif *utc;
		int64_t ms;
		if (tzif_fixed(0, &utc) == 0) {
			if (cron_parse_instant(text, z ? z : utc, &ms) == 0) {
				char iso[64];
				cron_format_instant(z ? z : utc, ms, iso, sizeof(iso));
				CHECK(memchr(iso, '\0', sizeof(iso)) != NULL);
			}
			tzif_free(utc);
		}
		free(text);
	}
	tzif_free(z);
	return 0;
}
