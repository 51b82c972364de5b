/*
 * csv.h - a streaming RFC 4180 reader and a field writer.
 *
 * The reader takes UTF-8 with or without BOM, CRLF or LF line ends, quoted
 * fields holding commas, doubled quotes and newlines.  It reads the input in
 * large blocks and hands out one record at a time; the field pointers it
 * returns are borrowed and valid until the next csv_next call.  Every error
 * names the line (1-based, the line the record starts on) and the column
 * (1-based field index).  Invalid UTF-8 is an error of the record.
 *
 * Error convention: e->line is the line the record starts on, e->field is the
 * 1-based column as plain decimal text ("3"), and e->msg describes the
 * problem without repeating either.  Errors: BM_EINVAL for an unterminated
 * quoted field (at end of input), a quote inside an unquoted field,
 * characters after a closing quote, a CR not followed by LF outside quotes,
 * a NUL byte, invalid UTF-8; BM_ETOOBIG for a record longer than
 * CSV_MAX_RECORD bytes (line end included); BM_EIO for a read error.
 *
 * Lines that are completely empty ("" between two line ends) are skipped and
 * are not records; a line of spaces is a record of one field.  A UTF-8 BOM at
 * the very start is dropped.  A final record needs no line end.
 */
#ifndef BM_CSV_H
#define BM_CSV_H

#include "buf.h"
#include "err.h"

#include <stdint.h>
#include <stdio.h>

/* The longest record accepted, in raw bytes including its line end. */
#define CSV_MAX_RECORD (1u << 20)

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
 * to the next line so a caller can keep collecting errors (after invalid
 * UTF-8 or a complete over-long record it simply goes on with the next
 * record).  BM_EIO is final: every later call returns it again. */
int csv_next(struct csv_reader *r, struct csv_record *rec, struct bm_err *e);
/* Bytes consumed so far (for progress reporting). */
uint64_t csv_offset(const struct csv_reader *r);
/* Calls tap(ctx, block, n) with every block of raw input as it is read, so a
 * caller can hash or count the exact bytes (the import's SHA-256). */
void csv_set_tap(struct csv_reader *r, void (*tap)(void *ctx, const void *p, size_t n),
		 void *ctx);
void csv_close(struct csv_reader *r);

/* Appends one field, quoted (quotes doubled) when it holds a comma, quote,
 * CR or LF or starts or ends with a space or tab.  NULL is written as "". */
void csv_put_field(struct buf *b, const char *s);
/* Appends the fields of one record joined by commas and ended by CRLF.  A
 * record of one empty field is written as "" so it is not read back as a
 * skipped blank line. */
void csv_put_record(struct buf *b, const char *const *fields, size_t n);

#endif
