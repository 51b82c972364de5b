/*
 * csv.h - a streaming RFC 4180 reader and a field writer.
 *
 * The reader takes UTF-8 with or without BOM, CRLF or LF line ends, quoted
 * fields holding commas, doubled quotes and newlines.  It reads the input in
 * large blocks and hands out one record at a time; the field pointers it
 * returns are borrowed and valid until the next csv_next call.  Every error
 * names the line (1-based, the line the record starts on) and the column
 * (1-based field index).  Invalid UTF-8 is an error of the record.
 */
#ifndef BM_CSV_H
#define BM_CSV_H

#include "buf.h"
#include "err.h"

#include <stdint.h>
#include <stdio.h>

struct csv_reader;

struct csv_record {
	size_t nfields;
	const char **fields;  /* NUL-terminated, borrowed */
	const size_t *lens;
	long line;            /* line number where the record starts */
};

/* Starts reading from fp (borrowed, not closed).  Never fails. */
struct csv_reader *csv_open(FILE *fp);
/* Reads the next record: 1 with *rec filled, 0 at end of input, or a negative
 * code with e naming line and column.  After a syntax error the reader skips
 * to the next line so a caller can keep collecting errors. */
int csv_next(struct csv_reader *r, struct csv_record *rec, struct bm_err *e);
/* Bytes consumed so far (for progress reporting). */
uint64_t csv_offset(const struct csv_reader *r);
/* Calls tap(ctx, block, n) with every block of raw input as it is read, so a
 * caller can hash or count the exact bytes (the import's SHA-256). */
void csv_set_tap(struct csv_reader *r, void (*tap)(void *ctx, const void *p, size_t n),
		 void *ctx);
void csv_close(struct csv_reader *r);

/* Appends one field, quoted when it holds a comma, quote, CR or LF. */
void csv_put_field(struct buf *b, const char *s);
/* Appends the fields of one record joined by commas and ended by CRLF. */
void csv_put_record(struct buf *b, const char *const *fields, size_t n);

#endif
