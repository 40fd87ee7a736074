/* table.h - human-readable output for jobctl's text mode: aligned tables with a
 * header row, "Label:  value" summaries, and timestamps.
 *
 * All text that reaches the terminal through here is sanitized (control
 * characters become '?'), because names, comments and paths come from the
 * server and could otherwise carry escape sequences. Empty or missing cells
 * print as "-" so columns never collapse. Output goes to stdout. */
#ifndef JOBCTL_TABLE_H
#define JOBCTL_TABLE_H

#include <stddef.h>

struct table;

/* A table of ncols columns titled headers[0..ncols-1] (copied). */
struct table *table_new(size_t ncols, const char *const *headers);

/* Append a row of ncols cells (copied; NULL or "" shows as "-"). */
void table_add_row(struct table *t, const char *const *cells);

/* Print the header and rows, columns separated by two spaces and padded to the
 * widest cell (counted in UTF-8 characters); the last column is not padded. */
void table_print(const struct table *t);

void table_free(struct table *t);

/* Print "label:" padded to a fixed width, then value (or "-"). */
void print_field(const char *label, const char *value);

/* Format epoch milliseconds as ISO 8601 UTC ("2024-05-01T10:00:00Z"); "-" when
 * ms <= 0 (unset). buf should hold at least 32 bytes. */
void format_time_ms(long long ms, char *buf, size_t len);

#endif
