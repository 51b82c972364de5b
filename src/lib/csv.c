/*
 * csv.c - a streaming RFC 4180 reader and the matching writer.
 *
 * The reader keeps one buffer of CSV_MAX_RECORD + CSV_BLOCK bytes (+1 for a
 * NUL sentinel at the end of the data, so the inner loops need no bounds
 * check).  A record is first scanned without touching the buffer, recording
 * a span per field; only when the whole record is known is it finished in
 * place (doubled quotes collapsed, a NUL written after each field).  If the
 * scan runs off the end of the data, the unread tail is moved to the front,
 * the next block is read and the record is scanned again from its start;
 * that costs one record per block and keeps the scanner free of resumable
 * state.  This module must never allocate per record in the steady state,
 * never guess at broken input (every oddity is an error naming line and
 * column) and never consume a byte that the tap has not seen.
 */
#include "csv.h"
#include "mem.h"
#include "utf8.h"

#include <stdbool.h>
#include <string.h>

#define CSV_BLOCK (1u << 20)
#define CSV_BUFCAP ((size_t)CSV_MAX_RECORD + CSV_BLOCK)
#define TOOBIG_MSG "record longer than 1 MiB (CSV_MAX_RECORD)"

/* One field as found by the scanner: raw bytes, and whether "" occurs. */
struct span {
	char *p;
	size_t len;
	bool esc;
};

struct csv_reader {
	FILE *fp;
	char *buf;          /* CSV_BUFCAP + 1 bytes; buf[end] is always NUL */
	size_t pos, end;    /* unread data is buf[pos..end) */
	bool started;       /* first block read and BOM handled */
	bool eof;           /* fp has no more data (or failed) */
	bool ioerr;
	bool resync;        /* skip to after the next LF before the next record */
	long line;          /* line number of buf[pos] */
	uint64_t nread;     /* bytes read from fp */
	void (*tap)(void *ctx, const void *p, size_t n);
	void *tapctx;
	struct span *spans;
	size_t nspans, capspans;
	const char **fields;
	size_t *lens;
	size_t capfields;
};

enum { SCAN_OK, SCAN_MORE, SCAN_ERR };

/* What a scan found: the end of the record (or the place to resync from),
 * the line ends it passed, and on error the code and reason. */
struct scan {
	char *next;
	long nl;
	size_t col;         /* 1-based column being scanned */
	int code;
	const char *why;
};

static void fill(struct csv_reader *r);
static void start(struct csv_reader *r);
static void skip_line(struct csv_reader *r);
static struct span *push_span(struct csv_reader *r);
static int scan_err(struct scan *o, char *at, int code, const char *why);
static int scan_plain(struct csv_reader *r, char **pp, struct scan *o);
static int scan_quoted(struct csv_reader *r, char **pp, struct scan *o);
static int scan_end(struct csv_reader *r, char *p, struct scan *o);
static int scan_record(struct csv_reader *r, struct scan *o);
static size_t unescape(char *p, size_t n);
static int finish(struct csv_reader *r, struct csv_record *rec, struct bm_err *e);
static void advance(struct csv_reader *r, const struct scan *o, bool resync);
static int col_err(struct bm_err *e, int code, long line, size_t col, const char *msg);
static size_t cap_column(const struct csv_reader *r, const char *start_p);
static bool is_blank(const struct csv_reader *r, const char *start_p);
static bool needs_quotes(const char *s, size_t n);

/* Bytes that end an unquoted field's fast loop, and a quoted field's. */
static const unsigned char plain_stop[256] = {
	['\0'] = 1, ['\n'] = 1, ['\r'] = 1, ['"'] = 1, [','] = 1,
};
static const unsigned char quoted_stop[256] = {
	['\0'] = 1, ['\n'] = 1, ['"'] = 1,
};

/* The reader borrows fp; the buffer is allocated once, here. */
struct csv_reader *csv_open(FILE *fp)
{
	struct csv_reader *r = xcalloc(1, sizeof *r);

	r->fp = fp;
	r->buf = xmalloc(CSV_BUFCAP + 1);
	r->buf[0] = '\0';
	r->line = 1;
	return r;
}

void csv_close(struct csv_reader *r)
{
	if (r == NULL)
		return;
	free(r->buf);
	free(r->spans);
	free(r->fields);
	free(r->lens);
	free(r);
}

void csv_set_tap(struct csv_reader *r, void (*tap)(void *ctx, const void *p, size_t n),
		 void *ctx)
{
	r->tap = tap;
	r->tapctx = ctx;
}

/* Everything read minus what is still waiting in the buffer. */
uint64_t csv_offset(const struct csv_reader *r)
{
	return r->nread - (r->end - r->pos);
}

/* Moves the unread tail to the front and reads one block after it.  The
 * caller guarantees the tail is shorter than CSV_MAX_RECORD, so a whole
 * block always fits.  Every byte read goes to the tap exactly once. */
static void fill(struct csv_reader *r)
{
	size_t n;

	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->end - r->pos);
		r->end -= r->pos;
		r->pos = 0;
	}
	n = fread(r->buf + r->end, 1, CSV_BLOCK, r->fp);
	if (n > 0 && r->tap != NULL)
		r->tap(r->tapctx, r->buf + r->end, n);
	r->nread += n;
	r->end += n;
	r->buf[r->end] = '\0';
	if (n < CSV_BLOCK) {
		r->eof = feof(r->fp) || ferror(r->fp);
		r->ioerr = ferror(r->fp) != 0;
	}
}

/* Reads the first block and drops a UTF-8 byte order mark. */
static void start(struct csv_reader *r)
{
	r->started = true;
	fill(r);
	if (r->end - r->pos >= 3 && memcmp(r->buf + r->pos, "\xEF\xBB\xBF", 3) == 0)
		r->pos += 3;
}

/* After a syntax error: discard input up to and including the next LF. */
static void skip_line(struct csv_reader *r)
{
	char *lf;

	r->resync = false;
	for (;;) {
		lf = memchr(r->buf + r->pos, '\n', r->end - r->pos);
		if (lf != NULL) {
			r->pos = (size_t)(lf - r->buf) + 1;
			r->line++;
			return;
		}
		r->pos = r->end;
		if (r->eof)
			return;
		fill(r);
	}
}

/* A new span at the end of the record's list; the list is reused. */
static struct span *push_span(struct csv_reader *r)
{
	if (r->nspans == r->capspans) {
		r->capspans = r->capspans ? r->capspans * 2 : 16;
		r->spans = xreallocarray(r->spans, r->capspans, sizeof *r->spans);
	}
	return &r->spans[r->nspans++];
}

static int scan_err(struct scan *o, char *at, int code, const char *why)
{
	o->next = at;
	o->code = code;
	o->why = why;
	return SCAN_ERR;
}

/* An unquoted field: runs to a comma, line end or end of input.  Leaves *pp
 * on the byte that ended it. */
static int scan_plain(struct csv_reader *r, char **pp, struct scan *o)
{
	char *s = *pp, *p = *pp, *lim = r->buf + r->end;
	struct span *sp;

	while (!plain_stop[(unsigned char)*p])
		p++;
	if (p == lim && !r->eof)
		return SCAN_MORE;
	if (*p == '"')
		return scan_err(o, p, BM_EINVAL, "quote inside an unquoted field");
	if (*p == '\0' && p != lim)
		return scan_err(o, p, BM_EINVAL, "NUL byte");
	sp = push_span(r);
	sp->p = s;
	sp->len = (size_t)(p - s);
	sp->esc = false;
	*pp = p;
	return SCAN_OK;
}

/* A quoted field starting at the opening quote in *pp: runs to the closing
 * quote, counting the line ends inside; "" is an escaped quote.  Leaves *pp
 * on the byte after the closing quote, which must end the field. */
static int scan_quoted(struct csv_reader *r, char **pp, struct scan *o)
{
	char *lim = r->buf + r->end, *s = *pp + 1, *p = s;
	bool esc = false;
	struct span *sp;

	for (;;) {
		while (!quoted_stop[(unsigned char)*p])
			p++;
		if (*p == '\n') {
			o->nl++;
			p++;
		} else if (*p == '"') {
			if (p + 1 == lim && !r->eof)
				return SCAN_MORE;
			if (p[1] != '"')
				break;
			esc = true;
			p += 2;
		} else if (p != lim) {
			return scan_err(o, p, BM_EINVAL, "NUL byte");
		} else {
			return r->eof ? scan_err(o, lim, BM_EINVAL, "unterminated quoted field")
				      : SCAN_MORE;
		}
	}
	sp = push_span(r);
	sp->p = s;
	sp->len = (size_t)(p - s);
	sp->esc = esc;
	p++;
	if (*p == ',' || *p == '\n' || *p == '\r' || p == lim) {
		*pp = p;
		return SCAN_OK;
	}
	return scan_err(o, p, BM_EINVAL,
			*p == '\0' ? "NUL byte" : "characters after a closing quote");
}

/* The byte at p ended the last field: LF, CRLF, end of input, or a bare CR
 * (an error, since RFC 4180 line ends are CRLF and we also accept LF). */
static int scan_end(struct csv_reader *r, char *p, struct scan *o)
{
	char *lim = r->buf + r->end;

	o->col = r->nspans;
	if (p == lim) {
		o->next = p;
		return SCAN_OK;
	}
	if (*p == '\r') {
		if (p + 1 == lim) {
			if (!r->eof)
				return SCAN_MORE;
			o->next = p + 1;
			return SCAN_OK;
		}
		if (p[1] != '\n')
			return scan_err(o, p + 1, BM_EINVAL,
					"carriage return not followed by a line feed");
		p++;
	}
	o->nl++;
	o->next = p + 1;
	return SCAN_OK;
}

/* Scans one record starting at buf[pos] without modifying the buffer. */
static int scan_record(struct csv_reader *r, struct scan *o)
{
	char *p = r->buf + r->pos;
	int st;

	r->nspans = 0;
	o->nl = 0;
	for (;;) {
		o->col = r->nspans + 1;
		st = *p == '"' ? scan_quoted(r, &p, o) : scan_plain(r, &p, o);
		if (st != SCAN_OK)
			return st;
		if (*p != ',')
			return scan_end(r, p, o);
		p++;
	}
}

/* Collapses each "" in p[0..n) to one quote; returns the new length. */
static size_t unescape(char *p, size_t n)
{
	size_t i, w = 0;

	for (i = 0; i < n; i++) {
		p[w++] = p[i];
		if (p[i] == '"')
			i++;
	}
	return w;
}

/* Reports an error of a record: the field is the column as decimal text. */
static int col_err(struct bm_err *e, int code, long line, size_t col, const char *msg)
{
	char field[24];

	snprintf(field, sizeof field, "%zu", col);
	return bm_errlf(e, code, line, field, "%s", msg);
}

/* The column of a complete record in which it crossed CSV_MAX_RECORD. */
static size_t cap_column(const struct csv_reader *r, const char *start_p)
{
	const char *limit = start_p + CSV_MAX_RECORD;
	size_t i;

	for (i = 0; i + 1 < r->nspans; i++)
		if (r->spans[i].p + r->spans[i].len >= limit)
			break;
	return i + 1;
}

/* A record that is one empty unquoted field came from an empty line. */
static bool is_blank(const struct csv_reader *r, const char *start_p)
{
	return r->nspans == 1 && r->spans[0].len == 0 && r->spans[0].p == start_p;
}

/* Turns the spans of a scanned record into NUL-terminated fields in place
 * and checks their UTF-8.  The record's bytes are the only ones written. */
static int finish(struct csv_reader *r, struct csv_record *rec, struct bm_err *e)
{
	size_t i, bad;
	struct span *sp;
	char msg[64];

	if (r->nspans > r->capfields) {
		r->capfields = r->nspans * 2;
		r->fields = xreallocarray(r->fields, r->capfields, sizeof *r->fields);
		r->lens = xreallocarray(r->lens, r->capfields, sizeof *r->lens);
	}
	for (i = 0; i < r->nspans; i++) {
		sp = &r->spans[i];
		if (sp->esc)
			sp->len = unescape(sp->p, sp->len);
		sp->p[sp->len] = '\0';
		if (!utf8_valid(sp->p, sp->len, &bad)) {
			snprintf(msg, sizeof msg, "invalid UTF-8 at byte %zu of the field",
				 bad + 1);
			return col_err(e, BM_EINVAL, rec->line, i + 1, msg);
		}
		r->fields[i] = sp->p;
		r->lens[i] = sp->len;
	}
	rec->nfields = r->nspans;
	rec->fields = r->fields;
	rec->lens = r->lens;
	return 1;
}

/* Moves past what a scan consumed; after an error, arms the resync so the
 * next call starts at the next line. */
static void advance(struct csv_reader *r, const struct scan *o, bool resync)
{
	r->pos = (size_t)(o->next - r->buf);
	r->line += o->nl;
	r->resync = resync;
}

/* Scans until a record (or an error) is complete, refilling the buffer as
 * needed.  Errors leave the reader positioned so the next call resumes at
 * the next line. */
int csv_next(struct csv_reader *r, struct csv_record *rec, struct bm_err *e)
{
	struct scan o;
	const char *start_p;
	int st;

	if (!r->started)
		start(r);
	if (r->resync)
		skip_line(r);
	for (;;) {
		if (r->ioerr)
			return bm_errlf(e, BM_EIO, r->line, "", "read error after %llu bytes",
					(unsigned long long)r->nread);
		if (r->pos == r->end) {
			if (r->eof)
				return 0;
			fill(r);
			continue;
		}
		rec->line = r->line;
		st = scan_record(r, &o);
		if (st == SCAN_MORE && r->end - r->pos < CSV_MAX_RECORD) {
			fill(r);
			continue;
		}
		if (st == SCAN_MORE) {
			o.next = r->buf + r->end;
			advance(r, &o, true);
			return col_err(e, BM_ETOOBIG, rec->line, o.col, TOOBIG_MSG);
		}
		if (st == SCAN_ERR) {
			advance(r, &o, true);
			return col_err(e, o.code, rec->line, o.col, o.why);
		}
		start_p = r->buf + r->pos;
		advance(r, &o, false);
		if ((size_t)(o.next - start_p) > CSV_MAX_RECORD)
			return col_err(e, BM_ETOOBIG, rec->line, cap_column(r, start_p),
				       TOOBIG_MSG);
		if (!is_blank(r, start_p))
			return finish(r, rec, e);
	}
}

/* A field must be quoted if reading it back unquoted would change it. */
static bool needs_quotes(const char *s, size_t n)
{
	if (n == 0)
		return false;
	if (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t')
		return true;
	/* A leading U+FEFF unquoted would read back as a byte order mark when
	 * the field starts the file; quoted it stays data. */
	if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		return true;
	return strpbrk(s, ",\"\r\n") != NULL;
}

/* Appends s to b, quoted and with quotes doubled when needed. */
void csv_put_field(struct buf *b, const char *s)
{
	const char *q;
	size_t n;

	if (s == NULL)
		s = "";
	n = strlen(s);
	if (!needs_quotes(s, n)) {
		buf_append(b, s, n);
		return;
	}
	buf_putc(b, '"');
	while ((q = strchr(s, '"')) != NULL) {
		buf_append(b, s, (size_t)(q - s) + 1);
		buf_putc(b, '"');
		s = q + 1;
	}
	buf_puts(b, s);
	buf_putc(b, '"');
}

/* Appends one CRLF-terminated record.  A lone empty field is written as ""
 * because an empty line would be skipped by the reader. */
void csv_put_record(struct buf *b, const char *const *fields, size_t n)
{
	size_t i;

	if (n == 1 && (fields[0] == NULL || fields[0][0] == '\0')) {
		buf_puts(b, "\"\"\r\n");
		return;
	}
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		csv_put_field(b, fields[i]);
	}
	buf_puts(b, "\r\n");
}
