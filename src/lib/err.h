/*
 * err.h - the one error convention of baomi.
 *
 * Every fallible function returns 0 or a negative BM_E* code and fills a
 * caller-supplied struct bm_err with a human message and, where known, the
 * offending field (a column, a JSON path, an option) and line.  Validation
 * that finds many problems at once (a CSV import, a JSON document) also
 * collects them as items, capped at BM_ERR_MAXITEMS with the total counted.
 * Adapters map codes once: the CLI to exit codes (err_exit_code), HTTP to
 * problem+json.  Nothing here allocates except the item list.
 */
#ifndef BM_ERR_H
#define BM_ERR_H

#include <stddef.h>

enum bm_errcode {
	BM_OK = 0,
	BM_EINVAL = -1,     /* bad data: a value, a row, a document */
	BM_EUSAGE = -2,     /* bad command line or request shape */
	BM_ENOTFOUND = -3,  /* a named record does not exist */
	BM_EEXIST = -4,     /* the record already exists */
	BM_ECONFLICT = -5,  /* stale version or concurrent change */
	BM_ESTATE = -6,     /* not allowed in the record's current state */
	BM_EPERM = -7,      /* the actor may not do this */
	BM_EAUTH = -8,      /* not authenticated */
	BM_ENOINPUT = -9,   /* an input file is missing or unreadable */
	BM_EIO = -10,       /* read/write/database failure */
	BM_ECRYPTO = -11,   /* key missing, wrong, or data failed authentication */
	BM_ESCHEMA = -12,   /* database schema is newer or damaged */
	BM_ETOOBIG = -13,   /* input exceeds a limit */
	BM_EBUSY = -14,     /* try again later (lockout, database busy) */
	BM_EINTERNAL = -15, /* a bug: an impossible state was reached */
};

#define BM_ERR_MAXITEMS 100

struct bm_err_item {
	long line;          /* 0 when not about a line */
	char field[64];     /* column, JSON path or option; "" when none */
	char reason[192];
};

struct bm_err {
	int code;
	long line;
	char field[64];
	char msg[512];
	struct bm_err_item *items; /* owned; freed by bm_err_clear */
	size_t nitems;             /* stored, <= maxitems */
	size_t total;              /* counted, may exceed nitems */
	size_t maxitems;           /* 0 means BM_ERR_MAXITEMS */
};

#define BM_ERR_INIT {0}

/* Sets code, field and message; returns code so callers can `return bm_errf(...)`. */
int bm_errf(struct bm_err *e, int code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Like bm_errf but also records a line number. */
int bm_errlf(struct bm_err *e, int code, long line, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Appends one item (line, field, reason); counts it even past the cap. */
void bm_err_add(struct bm_err *e, long line, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Frees the items and resets *e to empty. */
void bm_err_clear(struct bm_err *e);
/* A short stable name for a code: "invalid", "not_found", ... */
const char *bm_errname(int code);
/* The documented process exit code for an error code (0 ok, 1, 2, 65, 66, 74). */
int bm_exit_code(int code);

#endif
