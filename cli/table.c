/* table.c - aligned tables, labelled fields and timestamps for jobctl's text
 * output (table.h). Rows are kept in memory until table_print(), because a
 * column's width is only known once every row has been seen. */
#include "table.h"

#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIELD_LABEL_WIDTH 14

struct table {
	size_t ncols;
	size_t nrows; /* including the header row */
	size_t cap;
	char **cells; /* nrows * ncols, row-major */
};

static char *cell_dup(const char *s) { return sanitize_dup(s && *s ? s : "-"); }

/* Display width in characters: count UTF-8 lead bytes, not bytes, so names
 * with accents line up. */
static size_t text_width(const char *s)
{
	size_t w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xC0) != 0x80)
			w++;
	return w;
}

struct table *table_new(size_t ncols, const char *const *headers)
{
	struct table *t = xmalloc(sizeof(*t));
	*t = (struct table){.ncols = ncols};
	table_add_row(t, headers);
	return t;
}

void table_add_row(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->cells = xrealloc(t->cells, t->cap * t->ncols * sizeof(char *));
	}
	for (size_t c = 0; c < t->ncols; c++)
		t->cells[t->nrows * t->ncols + c] = cell_dup(cells[c]);
	t->nrows++;
}

void table_print(const struct table *t)
{
	size_t *width = xmalloc(t->ncols * sizeof(size_t));
	for (size_t c = 0; c < t->ncols; c++) {
		width[c] = 0;
		for (size_t r = 0; r < t->nrows; r++) {
			size_t w = text_width(t->cells[r * t->ncols + c]);
			width[c] = w > width[c] ? w : width[c];
		}
	}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			if (c + 1 == t->ncols) {
				printf("%s\n", cell);
				break;
			}
			printf("%s%*s", cell, (int)(width[c] - text_width(cell) + 2), "");
		}
	}
	free(width);
}

void table_free(struct table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

void print_field(const char *label, const char *value)
{
	char *v = cell_dup(value);
	char *l = xasprintf("%s:", label);
	printf("%-*s%s\n", FIELD_LABEL_WIDTH, l, v);
	free(l);
	free(v);
}

void format_time_ms(long long ms, char *buf, size_t len)
{
	struct tm tm;
	time_t secs = (time_t)(ms / 1000);
	if (ms <= 0 || !gmtime_r(&secs, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "-");
}
