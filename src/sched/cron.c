/* cron.c - Quartz 2.3 cron expressions: parse, validate, format.
 *
 * Method: split the text on white space into 6 or 7 fields, parse each field
 * into a 192-bit scratch set (enough for the 130 years), then copy the sets
 * into struct cron_expr. Day-of-month and day-of-week first try their special
 * forms (?, L, W, #), which Quartz only allows as the whole field; everything
 * else is a comma list of terms:
 *
 *     term  = "*" ["/" step] | "/" step
 *           | value ["-" value] ["/" step]
 *     value = number | three-letter name (month and day-of-week fields)
 *
 * The semantics follow org.quartz.CronExpression 2.3.2 (checked against the
 * real library, see docs/internals/cron.md): wrap-around ranges (22-2,
 * NOV-FEB) count through the field's modulus, "a/n" runs from a to the field's
 * maximum with no carry, "/n" and "* /n" start at the field's minimum. Where
 * Quartz silently ignores characters it cannot read, we refuse the
 * expression instead: a schedule must never fire at times its author did not
 * write.
 *
 * Invariant: a successful cron_parse() fills the struct as cron.h states; a
 * failed one leaves it zeroed and explains itself in err.
 * Threads: no globals except constant tables; any thread.
 */
#include "sched/cron.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum field_id { F_SEC, F_MIN, F_HOUR, F_DOM, F_MONTH, F_DOW, F_YEAR, F_COUNT };

struct field_spec {
	const char *name;	  /* as it appears in messages */
	int lo, hi;		  /* allowed values */
	int base;		  /* value of bit 0 in the scratch set */
	int wrap;		  /* modulus of a wrap-around range; 0: ranges can't wrap */
	int max_step;		  /* Quartz's limit for the steps of *, /n and a/n */
	const char *const *names; /* names[v - lo], three letters, or NULL */
	const char *name_kind;	  /* "month" or "day" for messages */
};

static const char *const month_names[12] = {
	"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
};

static const char *const day_names[7] = {
	"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT",
};

static const struct field_spec specs[F_COUNT] = {
	[F_SEC] = {"seconds", 0, 59, 0, 60, 59, NULL, NULL},
	[F_MIN] = {"minutes", 0, 59, 0, 60, 59, NULL, NULL},
	[F_HOUR] = {"hours", 0, 23, 0, 24, 23, NULL, NULL},
	[F_DOM] = {"day-of-month", 1, 31, 0, 31, 31, NULL, NULL},
	[F_MONTH] = {"month", 1, 12, 0, 12, 12, month_names, "month"},
	[F_DOW] = {"day-of-week", 1, 7, 0, 7, 7, day_names, "day"},
	[F_YEAR] = {"year", CRON_YEAR_MIN, CRON_YEAR_MAX, CRON_YEAR_MIN, 0, INT_MAX, NULL, NULL},
};

/* Scratch set for one field: bit (v - spec->base). */
struct vset {
	uint64_t w[3];
};

/* One field being parsed. */
struct pctx {
	const struct field_spec *f;
	const char *text; /* the field, not NUL-terminated */
	size_t len;
	char *err;
	size_t errlen;
	bool star; /* a bare '*' term was seen */
};

/* A value read from the text: a number or a name. */
struct value {
	long long v;
	bool is_name;
	const char *s; /* its text, for messages */
	int slen;
};

/* Numbers larger than this are only ever "out of range"; saturating keeps
 * the arithmetic far from overflow. Java's Integer.parseInt refuses more than
 * INT_MAX, so anything above is an error for Quartz as well. */
#define NUM_SATURATE ((long long)INT_MAX + 1)

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

static char upper(char c) { return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c; }

static const char *memchr_ci(const char *s, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (upper(s[i]) == c)
			return s + i;
	return NULL;
}

static size_t count_char(const char *s, size_t n, char c)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

/* Copies at most 40 bytes of s into out as printable ASCII: quotes,
 * backslashes, control and non-ASCII bytes become \xNN so that a message
 * never carries raw bytes into logs or JSON. */
static void quote(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0, i;
	for (i = 0; i < n && i < 40; i++) {
		unsigned char c = (unsigned char)s[i];
		if (o + 5 >= outlen)
			break;
		if (c < 0x20 || c >= 0x7f || c == '\'' || c == '\\')
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	if (i < n && o + 4 < outlen) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
						      ...)
{
	if (err && errlen > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* "<field> field '<text>': <message>"; returns -1. */
__attribute__((format(printf, 2, 3))) static int field_fail(struct pctx *c, const char *fmt, ...)
{
	char msg[160], q[200];
	va_list ap;

	if (!c->err || c->errlen == 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	quote(c->text, c->len, q, sizeof(q));
	snprintf(c->err, c->errlen, "%s field '%s': %s", c->f->name, q, msg);
	return -1;
}

/* The message for a character that has no business where it stands. */
static int bad_char(struct pctx *c, const char *p)
{
	bool dom = c->f == &specs[F_DOM], dow = c->f == &specs[F_DOW];
	unsigned char ch = (unsigned char)*p;

	switch (upper(*p)) {
	case '?':
		if (dom || dow)
			return field_fail(c, "'?' must be the whole field");
		return field_fail(c, "'?' is only allowed in day-of-month or day-of-week");
	case 'L':
		if (dom)
			return field_fail(c, "'L' must be one of L, L-n, LW, L-nW");
		if (dow)
			return field_fail(
				c, "'L' must be L alone or dL (last weekday d of the month)");
		return field_fail(c, "'L' is only allowed in day-of-month or day-of-week");
	case 'W':
		if (dom)
			return field_fail(c, "'W' needs a single day of month (1W..31W)");
		return field_fail(c, "'W' is only allowed in day-of-month");
	case '#':
		if (dow)
			return field_fail(c, "'#' must be d#n alone (n-th weekday d of the month)");
		return field_fail(c, "'#' is only allowed in day-of-week");
	case ',': return field_fail(c, "empty element in list");
	default:
		if (ch < 0x20 || ch >= 0x7f)
			return field_fail(c, "unexpected byte 0x%02x", ch);
		return field_fail(c, "unexpected character '%c'", ch);
	}
}

/* Reads decimal digits at *pp (at least one). Saturates at NUM_SATURATE. */
static int scan_number(const char **pp, const char *e, long long *out)
{
	const char *p = *pp;
	long long v = 0;

	if (p == e || !is_digit(*p))
		return -1;
	for (; p < e && is_digit(*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > NUM_SATURATE)
			v = NUM_SATURATE;
	}
	*pp = p;
	*out = v;
	return 0;
}

/* Reads one value (number or name) at *pp and checks its range. */
static int scan_value(struct pctx *c, const char **pp, const char *e, struct value *v)
{
	const char *p = *pp;

	v->s = p;
	v->is_name = false;
	if (p < e && is_digit(*p)) {
		scan_number(&p, e, &v->v);
		v->slen = (int)(p - v->s);
		if (v->v < c->f->lo || v->v > c->f->hi)
			return field_fail(c, "value %.*s out of range %d-%d",
					  v->slen > 20 ? 20 : v->slen, v->s, c->f->lo, c->f->hi);
		*pp = p;
		return 0;
	}
	if (p < e && is_alpha(*p)) {
		while (p < e && is_alpha(*p))
			p++;
		v->slen = (int)(p - v->s);
		if ((v->slen == 1 || !c->f->names) && (upper(*v->s) == 'L' || upper(*v->s) == 'W'))
			return bad_char(c, v->s);
		if (!c->f->names)
			return field_fail(c,
					  "unexpected '%.*s' (names are only allowed in month and "
					  "day-of-week)",
					  v->slen > 16 ? 16 : v->slen, v->s);
		if (v->slen == 3) {
			for (int i = 0; i <= c->f->hi - c->f->lo; i++) {
				const char *n = c->f->names[i];
				if (upper(p[-3]) == n[0] && upper(p[-2]) == n[1] &&
				    upper(p[-1]) == n[2]) {
					v->v = c->f->lo + i;
					v->is_name = true;
					*pp = p;
					return 0;
				}
			}
		}
		return field_fail(c, "unknown %s name '%.*s'", c->f->name_kind,
				  v->slen > 16 ? 16 : v->slen, v->s);
	}
	if (p == e)
		return field_fail(c, "a value is missing");
	return bad_char(c, p);
}

/* Reads the step after a '/'. checked: apply Quartz's per-field limit, as it
 * does for "*" "/n", "/n" and "a/n" (but not for "a-b/n"). */
static int scan_step(struct pctx *c, const char **pp, const char *e, bool checked, long long *step)
{
	const char *s = *pp;

	if (scan_number(pp, e, step) < 0)
		return field_fail(c, "'/' must be followed by a number");
	int slen = (int)(*pp - s);
	if (slen > 20)
		slen = 20;
	if (*step == 0)
		return field_fail(c, "step 0: a step must be at least 1");
	if (checked && *step > c->f->max_step)
		return field_fail(c, "step %.*s out of range 1-%d", slen, s, c->f->max_step);
	if (*step > INT_MAX)
		return field_fail(c, "step %.*s is too large", slen, s);
	return 0;
}

static void vset_add(struct vset *set, int base, long long v)
{
	unsigned i = (unsigned)(v - base);
	set->w[i / 64] |= (uint64_t)1 << (i % 64);
}

/* Adds a..b by step. A range whose end is below its start wraps around
 * through the field's modulus, as Quartz's addToSet does: hours 22-2 is
 * 22,23,0,1,2; day-of-month 30-2 is 30,31,1,2. */
static int add_range(struct pctx *c, struct vset *set, long long a, long long b, long long step)
{
	const struct field_spec *f = c->f;
	long long stop = b;

	if (b < a) {
		if (!f->wrap)
			return field_fail(
				c, "range %lld-%lld runs backwards (years do not wrap around)", a,
				b);
		stop = b + f->wrap;
	}
	for (long long i = a; i <= stop; i += step)
		vset_add(set, f->base, f->wrap ? (i - f->lo) % f->wrap + f->lo : i);
	return 0;
}

static int expect_end(struct pctx *c, const char *p, const char *e)
{
	return p == e ? 0 : bad_char(c, p);
}

/* One list element, [s, e), non-empty. */
static int parse_term(struct pctx *c, const char *s, const char *e, struct vset *set)
{
	const struct field_spec *f = c->f;
	const char *p = s;
	long long step;
	struct value a, b;

	if (*p == '*' || *p == '/') {
		if (*p == '*') {
			p++;
			if (p == e) {
				c->star = true;
				return add_range(c, set, f->lo, f->hi, 1);
			}
			if (*p != '/')
				return bad_char(c, p);
		}
		p++;
		if (scan_step(c, &p, e, true, &step) < 0 || expect_end(c, p, e) < 0)
			return -1;
		return add_range(c, set, f->lo, f->hi, step);
	}

	if (scan_value(c, &p, e, &a) < 0)
		return -1;
	if (p == e)
		return add_range(c, set, a.v, a.v, 1);
	if (*p == '-') {
		p++;
		if (scan_value(c, &p, e, &b) < 0)
			return -1;
		if (a.is_name != b.is_name)
			return field_fail(c,
					  "a range needs two numbers or two names, not '%.*s-%.*s'",
					  a.slen, a.s, b.slen, b.s);
		if (p == e)
			return add_range(c, set, a.v, b.v, 1);
		if (*p != '/')
			return bad_char(c, p);
		if (a.is_name)
			goto name_step;
		p++;
		if (scan_step(c, &p, e, false, &step) < 0 || expect_end(c, p, e) < 0)
			return -1;
		return add_range(c, set, a.v, b.v, step);
	}
	if (*p == '/') {
		if (a.is_name)
			goto name_step;
		p++;
		if (scan_step(c, &p, e, true, &step) < 0 || expect_end(c, p, e) < 0)
			return -1;
		return add_range(c, set, a.v, f->hi, step);
	}
	return bad_char(c, p);

name_step:
	/* Quartz reads "MON-FRI/2" as MON-FRI and "JAN/3" as JAN: it drops
	 * the step without a word. Refuse rather than fire on other days. */
	return field_fail(
		c, "a step cannot follow a %s name (Quartz would ignore it); use numbers, e.g. %s",
		f->name_kind, f == &specs[F_DOW] ? "2-6/2" : "1/3");
}

/* A comma list of terms: the whole of [text, text + len). */
static int parse_list(struct pctx *c, struct vset *set)
{
	const char *p = c->text, *end = c->text + c->len;

	for (;;) {
		const char *t = p;
		while (t < end && *t != ',')
			t++;
		if (t == p)
			return field_fail(c, "empty element in list");
		if (parse_term(c, p, t, set) < 0)
			return -1;
		if (t == end)
			return 0;
		p = t + 1;
		if (p == end)
			return field_fail(c, "empty element in list");
	}
}

static bool is_exactly(const struct pctx *c, const char *s)
{
	size_t n = strlen(s);
	if (n != c->len)
		return false;
	for (size_t i = 0; i < n; i++)
		if (upper(c->text[i]) != s[i])
			return false;
	return true;
}

/* L, L-n, LW, L-nW: the whole field. */
static int parse_dom_last(struct pctx *c, struct cron_expr *out)
{
	const char *p = c->text + 1, *e = c->text + c->len;
	long long off = 0;

	if (p < e && *p == '-') {
		p++;
		const char *s = p;
		if (scan_number(&p, e, &off) < 0)
			return field_fail(c, "'L-' must be followed by a number of days 0-30");
		if (off > 30)
			return field_fail(c, "offset %.*s from the last day out of range 0-30",
					  (int)(p - s > 20 ? 20 : p - s), s);
	}
	out->dom_kind = CRON_DOM_LAST;
	if (p < e && upper(*p) == 'W') {
		p++;
		out->dom_kind = CRON_DOM_LAST_WEEKDAY;
	}
	if (p != e)
		return field_fail(c, "'L' must be one of L, L-n, LW, L-nW");
	out->dom_offset = (uint8_t)off;
	return 0;
}

static int parse_dom(struct pctx *c, struct cron_expr *out)
{
	const char *t = c->text, *e = c->text + c->len;
	bool has_l = memchr_ci(t, c->len, 'L') != NULL;
	bool has_w = memchr_ci(t, c->len, 'W') != NULL;
	struct vset set = {{0}};

	if (is_exactly(c, "?")) {
		out->dom_kind = CRON_DOM_NONE;
		return 0;
	}
	if (memchr(t, '?', c->len))
		return field_fail(c, "'?' must be the whole field");
	if (has_l || has_w) {
		if (memchr(t, ',', c->len))
			return has_l ? field_fail(
					       c,
					       "'L' cannot be combined with other days in a list")
				     : field_fail(c, "'W' needs a single day of month (1W..31W)");
		if (upper(*t) == 'L')
			return parse_dom_last(c, out);
		if (has_l)
			return field_fail(c, "'L' must be one of L, L-n, LW, L-nW");
		/* nW */
		const char *p = t;
		long long d;
		if (scan_number(&p, e, &d) < 0 || p + 1 != e || upper(*p) != 'W' || d < 1 || d > 31)
			return field_fail(c, "'W' needs a single day of month (1W..31W)");
		out->dom_kind = CRON_DOM_NEAREST_WEEKDAY;
		out->dom_day = (uint8_t)d;
		return 0;
	}
	if (parse_list(c, &set) < 0)
		return -1;
	out->dom_kind = CRON_DOM_DAYS;
	out->days_of_month = (uint32_t)set.w[0];
	return 0;
}

/* Reads a single weekday (number or name) that must fill [s, e). */
static int dow_single(struct pctx *c, const char *s, const char *e, const char *form, long long *d)
{
	const char *p = s;
	struct value v;

	if (s == e || !(is_digit(*s) || is_alpha(*s)))
		return field_fail(c, "%s needs a single day of week before it", form);
	if (scan_value(c, &p, e, &v) < 0)
		return -1;
	if (p != e)
		return field_fail(c, "%s needs a single day of week before it", form);
	*d = v.v;
	return 0;
}

/* Looks like one weekday: all digits, or exactly three letters. */
static bool is_single_day(const char *s, size_t n)
{
	size_t digits = 0, letters = 0;
	for (size_t i = 0; i < n; i++) {
		digits += is_digit(s[i]);
		letters += is_alpha(s[i]);
	}
	return n > 0 && (digits == n || (letters == n && n == 3));
}

static int parse_dow(struct pctx *c, struct cron_expr *out)
{
	const char *t = c->text, *e = c->text + c->len;
	const char *hash = memchr(t, '#', c->len);
	struct vset set = {{0}};
	long long d, n;

	if (is_exactly(c, "?")) {
		out->dow_kind = CRON_DOW_NONE;
		return 0;
	}
	if (memchr(t, '?', c->len))
		return field_fail(c, "'?' must be the whole field");
	if (hash) {
		if (count_char(t, c->len, '#') > 1)
			return field_fail(c, "only one '#' term is allowed");
		if (memchr(t, ',', c->len))
			return field_fail(c, "'#' cannot be combined with other days in a list");
		if (dow_single(c, t, hash, "'#'", &d) < 0)
			return -1;
		const char *p = hash + 1;
		if (scan_number(&p, e, &n) < 0 || p != e || n < 1 || n > 5)
			return field_fail(c, "'#' must be followed by a number 1-5");
		out->dow_kind = CRON_DOW_NTH;
		out->dow_day = (uint8_t)d;
		out->dow_nth = (uint8_t)n;
		return 0;
	}
	/* No day name contains an L, so an L is the special character; other
	 * misplaced Ls get their message from the list parser below. */
	if (memchr_ci(t, c->len, 'L')) {
		if (memchr(t, ',', c->len))
			return field_fail(c, "'L' cannot be combined with other days in a list");
		if (c->len == 1) {
			/* Quartz: a lone L in day-of-week is simply 7 (SAT). */
			out->dow_kind = CRON_DOW_DAYS;
			out->days_of_week = 1u << 7;
			return 0;
		}
		if (upper(e[-1]) == 'L' && is_single_day(t, c->len - 1)) {
			if (dow_single(c, t, e - 1, "'L'", &d) < 0)
				return -1;
			out->dow_kind = CRON_DOW_LAST;
			out->dow_day = (uint8_t)d;
			return 0;
		}
	}
	if (parse_list(c, &set) < 0)
		return -1;
	out->dow_kind = CRON_DOW_DAYS;
	out->days_of_week = (uint8_t)set.w[0];
	return 0;
}

static int parse_field(enum field_id id, const char *text, size_t len, struct cron_expr *out,
		       char *err, size_t errlen)
{
	struct pctx c = {&specs[id], text, len, err, errlen, false};
	struct vset set = {{0}};

	if (id == F_DOM)
		return parse_dom(&c, out);
	if (id == F_DOW)
		return parse_dow(&c, out);
	if (parse_list(&c, &set) < 0)
		return -1;
	switch (id) {
	case F_SEC: out->seconds = set.w[0]; break;
	case F_MIN: out->minutes = set.w[0]; break;
	case F_HOUR: out->hours = (uint32_t)set.w[0]; break;
	case F_MONTH: out->months = (uint16_t)set.w[0]; break;
	case F_YEAR:
		memcpy(out->years, set.w, sizeof(out->years));
		out->any_year = c.star;
		break;
	default: break;
	}
	return 0;
}

static int parse(const char *text, struct cron_expr *out, char *err, size_t errlen)
{
	const char *start[F_COUNT];
	size_t len[F_COUNT];
	int nfields = 0;

	if (!text)
		return fail(err, errlen, "no expression");
	if (strnlen(text, CRON_MAX_LEN + 1) > CRON_MAX_LEN)
		return fail(err, errlen, "expression is longer than %d bytes", CRON_MAX_LEN);

	for (const char *p = text; *p;) {
		while (is_space(*p))
			p++;
		if (!*p)
			break;
		const char *s = p;
		while (*p && !is_space(*p))
			p++;
		if (nfields < F_COUNT) {
			start[nfields] = s;
			len[nfields] = (size_t)(p - s);
		}
		nfields++;
	}
	if (nfields == 0)
		return fail(err, errlen, "expression is empty");
	if (nfields < 6 || nfields > 7)
		return fail(err, errlen, "expected 6 or 7 fields, got %d", nfields);

	for (int i = 0; i < nfields; i++)
		if (parse_field((enum field_id)i, start[i], len[i], out, err, errlen) < 0)
			return -1;
	if (nfields == 6) {
		struct pctx c = {&specs[F_YEAR], "*", 1, err, errlen, false};
		struct vset set = {{0}};
		add_range(&c, &set, CRON_YEAR_MIN, CRON_YEAR_MAX, 1);
		memcpy(out->years, set.w, sizeof(out->years));
		out->any_year = true;
	}

	if (out->dom_kind == CRON_DOM_NONE && out->dow_kind == CRON_DOW_NONE)
		return fail(err, errlen,
			    "day-of-month and day-of-week are both '?'; exactly one of them must "
			    "be '?'");
	if (out->dom_kind != CRON_DOM_NONE && out->dow_kind != CRON_DOW_NONE)
		return fail(
			err, errlen,
			"both day-of-month and day-of-week are specified; one of them must be '?'");
	return 0;
}

int cron_parse(const char *text, struct cron_expr *out, char *err, size_t errlen)
{
	struct cron_expr e;

	memset(&e, 0, sizeof(e));
	if (err && errlen > 0)
		err[0] = '\0';
	if (parse(text, &e, err, errlen) < 0) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	*out = e;
	return 0;
}

/* --- cron_format ---------------------------------------------------------- */

struct outbuf {
	char *buf;
	size_t n, len;
	bool full;
};

__attribute__((format(printf, 2, 3))) static void out_add(struct outbuf *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (o->full)
		return;
	va_start(ap, fmt);
	k = vsnprintf(o->buf + o->len, o->n - o->len, fmt, ap);
	va_end(ap);
	if (k < 0 || (size_t)k >= o->n - o->len) {
		o->full = true;
		return;
	}
	o->len += (size_t)k;
}

static bool bit_at(const uint64_t *w, int i) { return (w[i / 64] >> (i % 64)) & 1; }

/* Writes the values lo..hi whose bit (v - base) is set: '*' when all are
 * (except for years, which only omit the field), runs of three or more as
 * ranges. Returns -1 for an empty set. */
static int out_set(struct outbuf *o, const uint64_t *w, const struct field_spec *f,
		   bool star_if_full)
{
	int count = 0, first = 1;

	for (int v = f->lo; v <= f->hi; v++)
		count += bit_at(w, v - f->base);
	if (count == 0)
		return -1;
	if (star_if_full && count == f->hi - f->lo + 1) {
		out_add(o, "*");
		return 0;
	}
	for (int v = f->lo; v <= f->hi; v++) {
		if (!bit_at(w, v - f->base))
			continue;
		int end = v;
		while (end < f->hi && bit_at(w, end + 1 - f->base))
			end++;
		out_add(o, first ? "%d" : ",%d", v);
		if (end == v + 1)
			out_add(o, ",%d", end);
		else if (end > v + 1)
			out_add(o, "-%d", end);
		first = 0;
		v = end;
	}
	return 0;
}

int cron_format(const struct cron_expr *e, char *buf, size_t n)
{
	struct outbuf o = {buf, n, 0, false};
	uint64_t w[3] = {0};

	if (!buf || n == 0)
		return -1;
	buf[0] = '\0';

	w[0] = e->seconds;
	if (out_set(&o, w, &specs[F_SEC], true) < 0)
		return -1;
	out_add(&o, " ");
	w[0] = e->minutes;
	if (out_set(&o, w, &specs[F_MIN], true) < 0)
		return -1;
	out_add(&o, " ");
	w[0] = e->hours;
	if (out_set(&o, w, &specs[F_HOUR], true) < 0)
		return -1;
	out_add(&o, " ");

	switch (e->dom_kind) {
	case CRON_DOM_NONE: out_add(&o, "?"); break;
	case CRON_DOM_DAYS:
		w[0] = e->days_of_month;
		if (out_set(&o, w, &specs[F_DOM], true) < 0)
			return -1;
		break;
	case CRON_DOM_LAST:
	case CRON_DOM_LAST_WEEKDAY:
		if (e->dom_offset > 30)
			return -1;
		out_add(&o, "L");
		if (e->dom_offset)
			out_add(&o, "-%d", e->dom_offset);
		if (e->dom_kind == CRON_DOM_LAST_WEEKDAY)
			out_add(&o, "W");
		break;
	case CRON_DOM_NEAREST_WEEKDAY:
		if (e->dom_day < 1 || e->dom_day > 31)
			return -1;
		out_add(&o, "%dW", e->dom_day);
		break;
	default: return -1;
	}
	out_add(&o, " ");
	w[0] = e->months;
	if (out_set(&o, w, &specs[F_MONTH], true) < 0)
		return -1;
	out_add(&o, " ");

	switch (e->dow_kind) {
	case CRON_DOW_NONE: out_add(&o, "?"); break;
	case CRON_DOW_DAYS:
		w[0] = e->days_of_week;
		if (out_set(&o, w, &specs[F_DOW], true) < 0)
			return -1;
		break;
	case CRON_DOW_LAST:
		if (e->dow_day < 1 || e->dow_day > 7)
			return -1;
		out_add(&o, "%dL", e->dow_day);
		break;
	case CRON_DOW_NTH:
		if (e->dow_day < 1 || e->dow_day > 7 || e->dow_nth < 1 || e->dow_nth > 5)
			return -1;
		out_add(&o, "%d#%d", e->dow_day, e->dow_nth);
		break;
	default: return -1;
	}
	if ((e->dom_kind == CRON_DOM_NONE) == (e->dow_kind == CRON_DOW_NONE))
		return -1;

	if (!e->any_year) {
		out_add(&o, " ");
		if (out_set(&o, e->years, &specs[F_YEAR], false) < 0)
			return -1;
	}
	return o.full ? -1 : 0;
}
