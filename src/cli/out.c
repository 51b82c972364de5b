/*
 * out.c - rendering for people and for scripts.  JSON is the service view
 * printed as is; tables align columns by display width so Chinese names line
 * up in a terminal.
 */
#include "cli.h"
#include "../lib/mem.h"
#include "../lib/utf8.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void out_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(v);
}

/* Columns s takes in a terminal; the rule is lib/utf8's. */
int out_width(const char *s)
{
	return (int)utf8_width(s, strlen(s));
}

/* Prints s and then spaces up to width terminal columns (none when s is
 * wider): printf's "%-16s" counts bytes, three for each Chinese character
 * that takes two columns. */
void out_padded(const char *s, int width)
{
	fputs(s, stdout);
	for (int k = out_width(s); k < width; k++)
		fputc(' ', stdout);
}

/* The text of one cell: strings as is, arrays joined by commas. */
static void cell(json_t *v, char *out, size_t cap)
{
	size_t o = 0;
	size_t i;
	json_t *x;

	out[0] = '\0';
	if (json_is_string(v)) {
		snprintf(out, cap, "%s", json_string_value(v));
	} else if (json_is_integer(v)) {
		snprintf(out, cap, "%lld", (long long)json_integer_value(v));
	} else if (json_is_boolean(v)) {
		snprintf(out, cap, "%s", json_is_true(v) ? "yes" : "no");
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			if (json_is_string(x) && o + 1 < cap)
				o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? "," : "",
						      json_string_value(x));
		}
	} else if (v == NULL || json_is_null(v)) {
		snprintf(out, cap, "-");
	}
}

static void pad(const char *s, int width, bool last)
{
	if (last)
		fputs(s, stdout);
	else
		out_padded(s, width + 2);
}

void out_table(json_t *rows, const char *const *keys, const char *const *heads, int n)
{
	int w[16] = {0};
	char buf[512];
	size_t i;
	json_t *r;

	for (int k = 0; k < n && k < 16; k++)
		w[k] = out_width(heads[k]);
	json_array_foreach(rows, i, r) {
		for (int k = 0; k < n && k < 16; k++) {
			cell(json_object_get(r, keys[k]), buf, sizeof buf);
			if (out_width(buf) > w[k])
				w[k] = out_width(buf);
		}
	}
	for (int k = 0; k < n; k++)
		pad(heads[k], w[k], k == n - 1);
	fputc('\n', stdout);
	json_array_foreach(rows, i, r) {
		for (int k = 0; k < n; k++) {
			cell(json_object_get(r, keys[k]), buf, sizeof buf);
			pad(buf, w[k], k == n - 1);
		}
		fputc('\n', stdout);
	}
}

void out_record(json_t *obj)
{
	const char *key;
	json_t *v;
	char buf[1024];

	json_object_foreach(obj, key, v) {
		if (json_is_array(v) && json_array_size(v) > 0 && json_is_object(json_array_get(v, 0))) {
			printf("%s:\n", key);
			size_t i;
			json_t *x;

			json_array_foreach(v, i, x) {
				char *line = json_dumps(x, JSON_COMPACT | JSON_PRESERVE_ORDER);

				printf("  - %s\n", line ? line : "");
				free(line);
			}
			continue;
		}
		cell(v, buf, sizeof buf);
		printf("%s: %s\n", key, buf);
	}
}

void out_error(const struct bm_err *e)
{
	fprintf(stderr, "baomi: %s\n", e->msg[0] ? e->msg : bm_errname(e->code));
	for (size_t i = 0; i < e->nitems; i++) {
		const struct bm_err_item *it = &e->items[i];

		if (it->line > 0)
			fprintf(stderr, "  line %ld, column %s: %s\n", it->line,
				it->field[0] ? it->field : "-", it->reason);
		else
			fprintf(stderr, "  %s: %s\n", it->field[0] ? it->field : "-", it->reason);
	}
	if (e->total > e->nitems)
		fprintf(stderr, "  ... and %zu more (%zu in all)\n", e->total - e->nitems, e->total);
}

int out_list(struct cli *c, json_t *v, const char *const *keys, const char *const *heads, int n,
	     struct bm_err *e)
{
	if (v == NULL)
		return e->code ? e->code : BM_EINTERNAL;
	if (c->json) {
		out_json(v);
		return 0;
	}
	out_table(v, keys, heads, n);
	json_decref(v);
	return 0;
}

void out_cut(const struct cli *c, bool more, const char *limit, const char *what, ...)
{
	va_list ap;

	if (c->json || !more)
		return;
	fputs("more ", stdout);
	va_start(ap, what);
	vprintf(what, ap);
	va_end(ap);
	printf(" than --limit %s shows\n", limit ? limit : "");
}
