/*
 * problem.h - RFC 9457 problem details and strict request-body parsing.
 *
 * One table maps every BM_E* code to an HTTP status, a stable type URI
 * ("urn:baomi:problem:<name>") and a title; e->items become errors[] of
 * {field, reason}.  Request bodies are parsed strictly: malformed JSON,
 * duplicate keys, a non-object top level, unknown fields, wrong types, NUL
 * inside strings and over-long strings are refused, naming the JSON path.
 */
#ifndef BM_HTTP_PROBLEM_H
#define BM_HTTP_PROBLEM_H

#include "../lib/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define PROBLEM_TYPE_PREFIX "urn:baomi:problem:"
#define PROBLEM_CTYPE "application/problem+json"

/* The HTTP status for a BM_E* code (500 for unknown codes). */
int problem_status(int code);

/* A new problem object for e: type, title, status, detail (e->msg; a generic
 * text for 5xx so internals never leak), errors[] from e->items (or from
 * e->field when there are none).  request_id, when not NULL, becomes
 * "request_id".  Returns a new reference; *status receives the status. */
json_t *problem_from_err(const struct bm_err *e, const char *request_id, int *status);

/* A new problem object for statuses the framework produces itself
 * (404 no such route, 405, 413 ...): name is the type suffix. */
json_t *problem_make(int status, const char *name, const char *title, const char *detail);

/* Field types a request body may carry. */
enum problem_ftype {
	PF_STRING,
	PF_INTEGER,
	PF_BOOLEAN,
	PF_STRARRAY, /* array of strings */
	PF_OBJECT,   /* any object; strings inside are checked for NUL */
};

/* One expected field of a request object. */
struct problem_field {
	const char *name;
	enum problem_ftype type;
	bool required;
	size_t max_len;   /* strings (and each array element): bytes; 0 = 1024 */
	size_t max_items; /* arrays: 0 = 256 */
};

/* Parses body (len bytes) as one JSON object: BM_EUSAGE naming the path for
 * an empty body, malformed JSON, invalid UTF-8, duplicate keys or another
 * top-level type.  Returns a new reference or NULL with e set. */
json_t *problem_parse_object(const char *body, size_t len, struct bm_err *e);

/* Checks obj against spec[0..n): every problem becomes an item of e
 * ("$.name", "expected string"), and the call returns BM_EINVAL when there is
 * at least one: unknown fields, missing required ones, wrong types, strings
 * with NUL or over max_len, arrays over max_items.  JSON null counts as absent. */
int problem_check_fields(json_t *obj, const struct problem_field *spec, size_t n,
			 struct bm_err *e);

#endif
