/*
 * problem.c - error codes to RFC 9457 problem details, and strict parsing of
 * request bodies.
 *
 * The code table below is the only place an error code becomes an HTTP
 * status.  A 5xx problem never carries the internal message (it may name
 * files or SQL); the server logs that with the request id instead.
 */
#include "problem.h"

#include <stdio.h>
#include <string.h>

#define PATH_DEPTH 16
#define DEFAULT_MAX_LEN 1024
#define DEFAULT_MAX_ITEMS 256

static const struct {
	int code;
	int status;
	const char *title;
} codes[] = {
	{BM_EINVAL, 422, "Invalid data"},
	{BM_EUSAGE, 400, "Bad request"},
	{BM_ENOTFOUND, 404, "Not found"},
	{BM_EEXIST, 409, "Already exists"},
	{BM_ECONFLICT, 409, "Conflict"},
	{BM_ESTATE, 409, "Not allowed in the current state"},
	{BM_EPERM, 403, "Forbidden"},
	{BM_EAUTH, 401, "Authentication required"},
	{BM_ENOINPUT, 400, "Missing input"},
	{BM_EIO, 500, "Storage failure"},
	{BM_ECRYPTO, 500, "Key or data integrity failure"},
	{BM_ESCHEMA, 500, "Database schema mismatch or damaged data"},
	{BM_ETOOBIG, 413, "Content too large"},
	{BM_EBUSY, 429, "Try again later"},
	{BM_EINTERNAL, 500, "Internal error"},
};

static int code_index(int code)
{
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (codes[i].code == code)
			return (int)i;
	return (int)(sizeof codes / sizeof codes[0]) - 1; /* EINTERNAL */
}

int problem_status(int code)
{
	return codes[code_index(code)].status;
}

json_t *problem_make(int status, const char *name, const char *title, const char *detail)
{
	char type[96];

	snprintf(type, sizeof type, PROBLEM_TYPE_PREFIX "%s", name);
	/* errors[] is always present, empty here, so clients need no special case. */
	return json_pack("{s:s, s:s, s:i, s:s, s:[]}", "type", type, "title", title,
			 "status", status, "detail", detail ? detail : title, "errors");
}

/* errors[] from the items, or from the single field when there are none. */
static json_t *problem_items(const struct bm_err *e)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < e->nitems; i++) {
		json_t *it = json_pack("{s:s, s:s}", "field", e->items[i].field, "reason",
				       e->items[i].reason);

		if (e->items[i].line > 0)
			json_object_set_new(it, "line", json_integer(e->items[i].line));
		json_array_append_new(arr, it);
	}
	if (e->nitems == 0 && e->field[0] != '\0')
		json_array_append_new(arr, json_pack("{s:s, s:s}", "field", e->field,
						     "reason", e->msg));
	return arr;
}

json_t *problem_from_err(const struct bm_err *e, const char *request_id, int *status)
{
	int i = code_index(e->code);
	const char *detail = e->msg[0] ? e->msg : codes[i].title;
	json_t *p;

	*status = codes[i].status;
	if (*status >= 500)
		detail = "the server could not complete the request; its log has the details "
			 "under this request id";
	p = problem_make(*status, bm_errname(codes[i].code), codes[i].title, detail);
	if (*status < 500) {
		json_object_set_new(p, "errors", problem_items(e));
		if (e->total > e->nitems)
			json_object_set_new(p, "errors_total", json_integer((json_int_t)e->total));
	}
	if (request_id != NULL)
		json_object_set_new(p, "request_id", json_string(request_id));
	return p;
}

/* ---- strict parsing ---- */

struct frame {
	bool obj, want_key;
	const char *key;
	size_t klen;
	long index;
};

/* Index of the closing quote of the string starting at s[i] (after '"'). */
static size_t string_end(const char *s, size_t end, size_t i)
{
	while (i < end && s[i] != '"')
		i += s[i] == '\\' ? 2 : 1;
	return i;
}

static void frame_punct(struct frame *f, char c)
{
	if (c == ':')
		f->want_key = false;
	else if (f->obj) {
		f->want_key = true;
		f->key = NULL;
	} else {
		f->index++;
	}
}

static void path_render(const struct frame *st, int depth, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "$");

	for (int d = 0; d < depth && n < cap; d++) {
		if (st[d].obj && st[d].key != NULL)
			n += (size_t)snprintf(out + n, cap - n, ".%.*s", (int)st[d].klen,
					      st[d].key);
		else if (!st[d].obj)
			n += (size_t)snprintf(out + n, cap - n, "[%ld]", st[d].index);
	}
}

/* The JSON path of the value being read at byte offset end of s, which
 * jansson has already parsed up to there (end is just past the offending
 * token); nesting past PATH_DEPTH is cut. */
static void path_at(const char *s, size_t end, char *out, size_t cap)
{
	struct frame st[PATH_DEPTH];
	int depth = 0, over = 0;

	for (size_t i = 0; i < end; i++) {
		if (s[i] == '"') {
			size_t start = i + 1;

			i = string_end(s, end, start);
			if (!over && depth > 0 && st[depth - 1].want_key) {
				st[depth - 1].key = s + start;
				st[depth - 1].klen = i - start;
			}
		} else if (s[i] == '{' || s[i] == '[') {
			if (depth < PATH_DEPTH && !over)
				st[depth++] = (struct frame){s[i] == '{', s[i] == '{', NULL, 0, 0};
			else
				over++;
		} else if ((s[i] == '}' || s[i] == ']') && i + 1 < end) {
			/* (a bracket right at the error is the offending token) */
			if (over)
				over--;
			else if (depth > 0)
				depth--;
		} else if ((s[i] == ',' || s[i] == ':') && !over && depth > 0) {
			frame_punct(&st[depth - 1], s[i]);
		}
	}
	path_render(st, depth, out, cap);
}

json_t *problem_parse_object(const char *body, size_t len, struct bm_err *e)
{
	json_error_t err;
	char path[64];
	json_t *v;

	if (len == 0) {
		bm_errf(e, BM_EUSAGE, "$", "the request body is empty; a JSON object is expected");
		return NULL;
	}
	v = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
	if (v == NULL) {
		size_t pos = err.position > 0 ? (size_t)err.position : 0;

		path_at(body, pos < len ? pos : len, path, sizeof path);
		bm_err_add(e, 0, path, "%s", err.text);
		bm_errf(e, BM_EUSAGE, path, "malformed JSON at line %d, column %d: %s",
			err.line, err.column, err.text);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		bm_err_add(e, 0, "$", "expected a JSON object");
		bm_errf(e, BM_EUSAGE, "$", "the request body must be a JSON object");
		return NULL;
	}
	return v;
}

/* ---- field specs ---- */

/* Checks one string value; false (with an item) when refused. */
static bool check_string(const json_t *v, const char *path, size_t max, struct bm_err *e)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);

	if (s == NULL) {
		bm_err_add(e, 0, path, "expected string");
		return false;
	}
	if (strlen(s) != n) {
		bm_err_add(e, 0, path, "must not contain NUL (\\u0000)");
		return false;
	}
	/* Bytes, as the service counts them and docs/openapi.yaml says: a
	 * text the adapter passes is judged by the service's limit alone. */
	if (n > (max ? max : DEFAULT_MAX_LEN)) {
		bm_err_add(e, 0, path, "longer than %zu bytes of UTF-8", max ? max : DEFAULT_MAX_LEN);
		return false;
	}
	return true;
}

/* out = path + ".key" or path + "[i]", truncated to cap (items keep 63 bytes). */
static void path_sub(char *out, size_t cap, const char *path, const char *key, size_t i)
{
	int n = key ? snprintf(out, cap, "%s.%s", path, key)
		    : snprintf(out, cap, "%s[%zu]", path, i);

	if (n < 0)
		out[0] = '\0';
}

/* Refuses NUL in any string below v (objects passed through as PF_OBJECT). */
static void check_no_nul(json_t *v, const char *path, struct bm_err *e)
{
	char sub[64];
	const char *k;
	json_t *x;
	size_t i;

	if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v))
		bm_err_add(e, 0, path, "must not contain NUL (\\u0000)");
	if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			path_sub(sub, sizeof sub, path, k, 0);
			check_no_nul(x, sub, e);
		}
	}
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			path_sub(sub, sizeof sub, path, NULL, i);
			check_no_nul(x, sub, e);
		}
	}
}

static void check_strarray(json_t *v, const struct problem_field *f, const char *path,
			   struct bm_err *e)
{
	size_t max = f->max_items ? f->max_items : DEFAULT_MAX_ITEMS, i;
	char sub[64];
	json_t *x;

	if (!json_is_array(v)) {
		bm_err_add(e, 0, path, "expected array of strings");
		return;
	}
	if (json_array_size(v) > max) {
		bm_err_add(e, 0, path, "more than %zu items", max);
		return;
	}
	json_array_foreach(v, i, x) {
		path_sub(sub, sizeof sub, path, NULL, i);
		check_string(x, sub, f->max_len, e);
	}
}

static void check_value(json_t *v, const struct problem_field *f, const char *path,
			struct bm_err *e)
{
	switch (f->type) {
	case PF_STRING:
		check_string(v, path, f->max_len, e);
		break;
	case PF_INTEGER:
		if (!json_is_integer(v))
			bm_err_add(e, 0, path, "expected integer");
		break;
	case PF_BOOLEAN:
		if (!json_is_boolean(v))
			bm_err_add(e, 0, path, "expected boolean");
		break;
	case PF_STRARRAY:
		check_strarray(v, f, path, e);
		break;
	case PF_OBJECT:
		if (!json_is_object(v))
			bm_err_add(e, 0, path, "expected object");
		else
			check_no_nul(v, path, e);
		break;
	}
}

static const struct problem_field *spec_find(const struct problem_field *spec, size_t n,
					     const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(spec[i].name, name) == 0)
			return &spec[i];
	return NULL;
}

int problem_check_fields(json_t *obj, const struct problem_field *spec, size_t n,
			 struct bm_err *e)
{
	size_t before = e->total;
	const char *key;
	char path[64];
	json_t *v;

	json_object_foreach(obj, key, v) {
		const struct problem_field *f = spec_find(spec, n, key);

		path_sub(path, sizeof path, "$", key, 0);
		if (f == NULL)
			bm_err_add(e, 0, path, "unknown field");
		else if (!json_is_null(v))
			check_value(v, f, path, e);
	}
	for (size_t i = 0; i < n; i++) {
		v = json_object_get(obj, spec[i].name);
		path_sub(path, sizeof path, "$", spec[i].name, 0);
		if (spec[i].required && (v == NULL || json_is_null(v)))
			bm_err_add(e, 0, path, "required");
	}
	if (e->total == before)
		return 0;
	return bm_errf(e, BM_EINVAL, e->nitems ? e->items[0].field : "$",
		       "the request body has %zu invalid field%s", e->total - before,
		       e->total - before == 1 ? "" : "s");
}
