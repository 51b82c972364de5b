/*
 * err.c - filling struct bm_err and mapping codes to names and exit codes.
 * The exit-code table here is the only one; the man page documents it.
 * Every field, message and reason it stores is valid UTF-8, whatever the
 * format cut: the HTTP layer sends them as JSON, which cannot hold less;
 * and one line of printable text, whatever the user's input echoed in it.
 */
#include "err.h"
#include "mem.h"
#include "utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Replaces each byte of s that is not part of a well-formed character
 * with '?'.  A precision ("%.40s") or the buffer's end can cut a character
 * in two, and one invalid byte makes the whole text unusable as a JSON
 * string (an empty problem+json body).  A control, bidi or line-separator
 * character becomes '?' too (each of its bytes): messages echo what the
 * user gave (a CSV field may hold a line break), and echoed as is it would
 * add forged lines to an import report or a log, or make one read
 * backwards. */
static void utf8_mend(char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0, k; i < n; i += k) {
		k = utf8_seq_len(s + i, n - i);
		if (k == 0)
			k = 1;
		else if (utf8_printable(s + i, k))
			continue;
		memset(s + i, '?', k);
	}
}

static void copy_field(char *dst, size_t cap, const char *field)
{
	if (field == NULL)
		field = "";
	if (field != dst)                /* e->field passed back in: keep it */
		snprintf(dst, cap, "%s", field);
	utf8_mend(dst);
}

/* Formats e->msg through a copy: a caller may wrap the message it has
 * ("...: %s", e->msg), and vsnprintf must not read what it is writing. */
static void set_msg(struct bm_err *e, const char *fmt, va_list ap)
{
	char tmp[sizeof e->msg];

	vsnprintf(tmp, sizeof tmp, fmt, ap);
	memcpy(e->msg, tmp, sizeof tmp);
	utf8_mend(e->msg);
}

int bm_errf(struct bm_err *e, int code, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	e->line = 0;
	copy_field(e->field, sizeof e->field, field);
	va_start(ap, fmt);
	set_msg(e, fmt, ap);
	va_end(ap);
	return code;
}

int bm_errlf(struct bm_err *e, int code, long line, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	e->code = code;
	e->line = line;
	copy_field(e->field, sizeof e->field, field);
	va_start(ap, fmt);
	set_msg(e, fmt, ap);
	va_end(ap);
	return code;
}

void bm_err_add(struct bm_err *e, long line, const char *field, const char *fmt, ...)
{
	size_t cap = e->maxitems ? e->maxitems : BM_ERR_MAXITEMS;
	struct bm_err_item *it;
	va_list ap;

	e->total++;
	if (e->nitems >= cap)
		return;
	if (e->items == NULL)
		e->items = xcalloc(cap, sizeof *e->items);
	it = &e->items[e->nitems++];
	it->line = line;
	copy_field(it->field, sizeof it->field, field);
	va_start(ap, fmt);
	vsnprintf(it->reason, sizeof it->reason, fmt, ap);
	va_end(ap);
	utf8_mend(it->reason);
}

void bm_err_clear(struct bm_err *e)
{
	size_t keep = e->maxitems;

	free(e->items);
	memset(e, 0, sizeof *e);
	e->maxitems = keep;
}

static const struct {
	int code;
	const char *name;
	int exit;
} codes[] = {
	{BM_OK, "ok", 0},
	{BM_EINVAL, "invalid", 65},
	{BM_EUSAGE, "usage", 2},
	{BM_ENOTFOUND, "not_found", 1},
	{BM_EEXIST, "exists", 1},
	{BM_ECONFLICT, "conflict", 1},
	{BM_ESTATE, "state", 1},
	{BM_EPERM, "forbidden", 1},
	{BM_EAUTH, "unauthenticated", 1},
	{BM_ENOINPUT, "no_input", 66},
	{BM_EIO, "io", 74},
	{BM_ECRYPTO, "crypto", 1},
	{BM_ESCHEMA, "schema", 1},
	{BM_ETOOBIG, "too_big", 65},
	{BM_EBUSY, "busy", 1},
	{BM_EINTERNAL, "internal", 1},
};

const char *bm_errname(int code)
{
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (codes[i].code == code)
			return codes[i].name;
	return "internal";
}

int bm_exit_code(int code)
{
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (codes[i].code == code)
			return codes[i].exit;
	return 1;
}
