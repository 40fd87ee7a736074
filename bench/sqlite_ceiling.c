/* sqlite_ceiling.c - the reference for the jobs/create benchmark: how many
 * rows per second SQLite itself commits when every row is its own durable
 * transaction (WAL, synchronous=FULL: what jobsd guarantees per request),
 * on the same file system, with rows as large as a job's settings.
 *
 *   sqlite_ceiling DIR PAYLOAD_FILE SECONDS
 *
 * Prints "rows_per_s=<n>". Group commit in jobsd is measured against this. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: sqlite_ceiling DIR PAYLOAD_FILE SECONDS\n");
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof(path), "%s/ceiling.db", argv[1]);
	FILE *f = fopen(argv[2], "rb");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	static char payload[1 << 20];
	size_t n = fread(payload, 1, sizeof(payload) - 1, f);
	fclose(f);
	payload[n] = '\0';
	double seconds = atof(argv[3]);

	sqlite3 *db;
	sqlite3_stmt *ins;
	if (sqlite3_open(path, &db) != SQLITE_OK ||
	    sqlite3_exec(db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO t(body) VALUES (?1)", -1, &ins, NULL) != SQLITE_OK) {
		fprintf(stderr, "sqlite: %s\n", sqlite3_errmsg(db));
		return 1;
	}
	long rows = 0;
	double start = now_s(), end = start + seconds;
	while (now_s() < end) {
		sqlite3_bind_text(ins, 1, payload, (int)n, SQLITE_STATIC);
		/* autocommit: one transaction, one WAL fsync per row */
		if (sqlite3_step(ins) != SQLITE_DONE) {
			fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db));
			return 1;
		}
		sqlite3_reset(ins);
		rows++;
	}
	double took = now_s() - start;
	sqlite3_finalize(ins);
	sqlite3_close(db);
	printf("rows_per_s=%.0f\n", (double)rows / took);
	return 0;
}
