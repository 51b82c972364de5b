/*
 * router.c - compiled route patterns and matching of request paths.
 *
 * The router never authenticates or authorizes: it only says which route a
 * request is for (the server then asks the auth hook and role_allows).
 */
#include "router.h"
#include "../lib/mem.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

struct seg {
	const char *text; /* literal text (not terminated) */
	size_t len;
	bool param;
	char name[32];    /* parameter name, for {name} segments */
};

struct compiled {
	struct http_route r;
	size_t nsegs;
	struct seg segs[ROUTER_MAXSEGS];
};

struct router {
	struct compiled *routes;
	size_t n, cap;
};

/* Splits path "/a/b" into segments; false when it has too many or does not
 * start with '/'.  "/" has zero segments. */
static bool split(const char *path, struct seg *segs, size_t *nsegs)
{
	size_t n = 0;

	if (path[0] != '/')
		return false;
	if (path[1] == '\0') {
		*nsegs = 0;
		return true;
	}
	for (const char *p = path + 1;; ) {
		size_t len = strcspn(p, "/");

		if (n == ROUTER_MAXSEGS)
			return false;
		segs[n++] = (struct seg){.text = p, .len = len};
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	*nsegs = n;
	return true;
}

static bool param_name_ok(const char *s, size_t n)
{
	if (n == 0 || n >= sizeof ((struct seg *)0)->name)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return false;
	return true;
}

/* Validates the segments of a pattern and marks the {name} ones. */
static int compile(struct compiled *c, struct bm_err *e)
{
	size_t params = 0;

	if (!split(c->r.pattern, c->segs, &c->nsegs))
		return bm_errf(e, BM_EINVAL, "pattern", "route pattern '%s' must start with / "
			       "and have at most %d segments", c->r.pattern, ROUTER_MAXSEGS);
	for (size_t i = 0; i < c->nsegs; i++) {
		struct seg *s = &c->segs[i];

		if (s->len == 0)
			return bm_errf(e, BM_EINVAL, "pattern", "empty segment in '%s'",
				       c->r.pattern);
		if (s->text[0] != '{')
			continue;
		if (s->text[s->len - 1] != '}' || !param_name_ok(s->text + 1, s->len - 2) ||
		    ++params > ROUTER_MAXPARAMS)
			return bm_errf(e, BM_EINVAL, "pattern", "bad parameter in '%s'",
				       c->r.pattern);
		s->param = true;
		memcpy(s->name, s->text + 1, s->len - 2);
		s->name[s->len - 2] = '\0';
	}
	return 0;
}

/* Walks the space-separated query list of r: the next name after *pos
 * (its length in *len), or NULL past the last one. */
static const char *query_next(const struct http_route *r, size_t *pos, size_t *len)
{
	const char *q = r->query ? r->query : "";

	*pos += strspn(q + *pos, " ");
	if (q[*pos] == '\0')
		return NULL;
	*len = strcspn(q + *pos, " ");
	*pos += *len;
	return q + *pos - *len;
}

int router_query_index(const struct http_route *route, const char *name, size_t len)
{
	size_t pos = 0, n;
	const char *w;

	for (int i = 0; (w = query_next(route, &pos, &n)) != NULL; i++)
		if (n == len && memcmp(w, name, len) == 0)
			return i;
	return -1;
}

/* A query list names each parameter once, in the path parameters' syntax,
 * and at most ROUTER_MAXQUERY of them (the server keeps one bit each). */
static int query_list_check(const struct http_route *r, struct bm_err *e)
{
	size_t pos = 0, n;
	const char *w;
	int count = 0;

	while ((w = query_next(r, &pos, &n)) != NULL) {
		if (!param_name_ok(w, n) || ++count > ROUTER_MAXQUERY ||
		    router_query_index(r, w, n) != count - 1)
			return bm_errf(e, BM_EINVAL, "query", "bad query list '%s' of %s %s",
				       r->query, r->method, r->pattern);
	}
	return 0;
}

struct router *router_new(void)
{
	return xcalloc(1, sizeof(struct router));
}

void router_free(struct router *rt)
{
	if (rt == NULL)
		return;
	free(rt->routes);
	free(rt);
}

int router_add(struct router *rt, const struct http_route *route, struct bm_err *e)
{
	struct compiled c = {.r = *route};

	if (route->fn == NULL || route->method == NULL || route->pattern == NULL)
		return bm_errf(e, BM_EINVAL, "route", "route needs a method, pattern and handler");
	if (compile(&c, e) < 0 || query_list_check(route, e) < 0)
		return BM_EINVAL;
	for (size_t i = 0; i < rt->n; i++)
		if (strcmp(rt->routes[i].r.method, route->method) == 0 &&
		    strcmp(rt->routes[i].r.pattern, route->pattern) == 0)
			return bm_errf(e, BM_EEXIST, "route", "duplicate route %s %s",
				       route->method, route->pattern);
	if (rt->n == rt->cap) {
		rt->cap = rt->cap ? rt->cap * 2 : 16;
		rt->routes = xreallocarray(rt->routes, rt->cap, sizeof *rt->routes);
	}
	rt->routes[rt->n++] = c;
	return 0;
}

int router_add_all(struct router *rt, const struct http_route *routes, size_t n,
		   struct bm_err *e)
{
	for (size_t i = 0; i < n; i++)
		if (router_add(rt, &routes[i], e) < 0)
			return e->code;
	return 0;
}

size_t router_count(const struct router *rt)
{
	return rt->n;
}

const struct http_route *router_route(const struct router *rt, size_t i)
{
	return i < rt->n ? &rt->routes[i].r : NULL;
}

static bool segs_match(const struct compiled *c, const struct seg *segs, size_t n)
{
	if (c->nsegs != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (c->segs[i].param ? segs[i].len == 0
				     : (segs[i].len != c->segs[i].len ||
					memcmp(segs[i].text, c->segs[i].text, segs[i].len) != 0))
			return false;
	}
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Length of the UTF-8 sequence at s (n bytes left), 0 when invalid: strict,
 * no overlongs, surrogates or code points past U+10FFFF. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0], min, cp;
	size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
		   : (c & 0xF8) == 0xF0 ? 4 : 0;

	if (len <= 1 || len > n)
		return len > n ? 0 : len;
	min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
	cp = c & (0x7F >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/* Percent-decodes s[0..n) into out; false on bad escapes, NUL or other
 * control characters, or invalid UTF-8. */
static bool decode(const char *s, size_t n, char *out, size_t *outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] != '%') {
			out[o++] = s[i];
			continue;
		}
		if (i + 2 >= n)
			return false;
		hi = hexval(s[i + 1]);
		lo = hexval(s[i + 2]);
		if (hi < 0 || lo < 0)
			return false;
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	for (size_t i = 0; i < o; ) {
		size_t len = utf8_seq((const unsigned char *)out + i, o - i);

		if (len == 0 || (unsigned char)out[i] < 0x20 || out[i] == 0x7F)
			return false;
		i += len;
	}
	out[o] = '\0';
	*outlen = o;
	return true;
}

/* Decodes the parameters of route c from segs into m->store. */
static bool bind_params(const struct compiled *c, const struct seg *segs,
			struct router_match *m)
{
	size_t used = 0, len;

	m->nparams = 0;
	for (size_t i = 0; i < c->nsegs; i++) {
		if (!c->segs[i].param)
			continue;
		if (!decode(segs[i].text, segs[i].len, m->store + used, &len))
			return false;
		m->names[m->nparams] = c->segs[i].name;
		m->values[m->nparams++] = m->store + used;
		used += len + 1;
	}
	return true;
}

static void allow_add(struct router_match *m, const char *method)
{
	size_t n = strlen(m->allow);

	if (strstr(m->allow, method) != NULL)
		return;
	snprintf(m->allow + n, sizeof m->allow - n, "%s%s", n ? ", " : "", method);
}

enum router_result router_match(const struct router *rt, const char *method,
				const char *path, struct router_match *m)
{
	struct seg segs[ROUTER_MAXSEGS];
	const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
	size_t n;

	m->route = NULL;
	m->allow[0] = '\0';
	m->nparams = 0;
	if (strlen(path) >= ROUTER_MAXPATH)
		return ROUTER_BADPATH;
	if (!split(path, segs, &n))
		return ROUTER_NOTFOUND;
	for (size_t i = 0; i < rt->n; i++) {
		const struct compiled *c = &rt->routes[i];

		if (!segs_match(c, segs, n))
			continue;
		if (strcmp(c->r.method, want) != 0) {
			allow_add(m, c->r.method);
			continue;
		}
		m->route = &c->r;
		m->index = i;
		return bind_params(c, segs, m) ? ROUTER_OK : ROUTER_BADPATH;
	}
	return m->allow[0] ? ROUTER_BADMETHOD : ROUTER_NOTFOUND;
}

const char *router_param(const struct router_match *m, const char *name)
{
	for (size_t i = 0; i < m->nparams; i++)
		if (strcmp(m->names[i], name) == 0)
			return m->values[i];
	return NULL;
}
