/*
 * metrics.c - lock-free request counters and their Prometheus rendering.
 *
 * Counts only: this module never sees a path, a query or a header, so it
 * cannot leak an identifier or a token into the exposition.
 */
#include "metrics.h"
#include "../lib/mem.h"

#include <stdatomic.h>
#include <string.h>

/* Status codes counted individually (every one the API answers, 428 of a
 * missing If-Match among them); anything else is "other". */
static const int status_codes[] = {200, 201, 204, 304, 400, 401, 403, 404, 405, 409,
				   412, 413, 415, 422, 428, 429, 500, 503};
#define NSTATUS (sizeof status_codes / sizeof status_codes[0] + 1)

/* Histogram bucket upper bounds in microseconds (and as Prometheus text). */
static const uint64_t bucket_us[] = {100, 250, 500, 1000, 2500, 5000, 10000, 25000,
				     50000, 100000, 250000, 500000, 1000000, 2500000,
				     5000000, 10000000};
static const char *const bucket_le[] = {"0.0001", "0.00025", "0.0005", "0.001", "0.0025",
					"0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
					"0.5", "1", "2.5", "5", "10"};
#define NBUCKET (sizeof bucket_us / sizeof bucket_us[0] + 1) /* + +Inf */

struct route_row {
	atomic_uint_fast64_t status[NSTATUS];
	atomic_uint_fast64_t bucket[NBUCKET];
	atomic_uint_fast64_t sum_us;
};

struct metrics {
	size_t nrows;
	char **labels;
	struct route_row *rows;
	atomic_uint_fast64_t login_ok, login_fail, lockouts, allow, deny;
};

struct metrics *metrics_new(size_t nroutes, const char *const *labels)
{
	struct metrics *m = xcalloc(1, sizeof *m);

	m->nrows = nroutes + 1;
	m->rows = xcalloc(m->nrows, sizeof *m->rows);
	m->labels = xcalloc(m->nrows, sizeof *m->labels);
	for (size_t i = 0; i < nroutes; i++)
		m->labels[i] = xstrdup(labels[i]);
	m->labels[nroutes] = xstrdup("unmatched");
	return m;
}

void metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->nrows; i++)
		free(m->labels[i]);
	free(m->labels);
	free(m->rows);
	free(m);
}

static size_t status_slot(int status)
{
	for (size_t i = 0; i < NSTATUS - 1; i++)
		if (status_codes[i] == status)
			return i;
	return NSTATUS - 1;
}

static size_t bucket_slot(uint64_t us)
{
	for (size_t i = 0; i < NBUCKET - 1; i++)
		if (us <= bucket_us[i])
			return i;
	return NBUCKET - 1;
}

void metrics_observe(struct metrics *m, size_t route, int status, uint64_t dur_us)
{
	struct route_row *r = &m->rows[route < m->nrows - 1 ? route : m->nrows - 1];

	atomic_fetch_add_explicit(&r->status[status_slot(status)], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->bucket[bucket_slot(dur_us)], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sum_us, dur_us, memory_order_relaxed);
}

void metrics_login(struct metrics *m, bool ok)
{
	atomic_fetch_add_explicit(ok ? &m->login_ok : &m->login_fail, 1, memory_order_relaxed);
}

void metrics_lockout(struct metrics *m)
{
	atomic_fetch_add_explicit(&m->lockouts, 1, memory_order_relaxed);
}

void metrics_decision(struct metrics *m, bool allow)
{
	atomic_fetch_add_explicit(allow ? &m->allow : &m->deny, 1, memory_order_relaxed);
}

void metrics_decisions(struct metrics *m, uint64_t allow, uint64_t deny)
{
	atomic_fetch_add_explicit(&m->allow, allow, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->deny, deny, memory_order_relaxed);
}

static uint64_t load(atomic_uint_fast64_t *a)
{
	return atomic_load_explicit(a, memory_order_relaxed);
}

/* A label value with \, " and newline escaped as the text format requires. */
static void put_label(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			buf_putc(out, '\\');
		if (*s == '\n')
			buf_puts(out, "\\n");
		else
			buf_putc(out, *s);
	}
}

static void render_requests(struct metrics *m, struct buf *out)
{
	buf_puts(out, "# HELP baomi_http_requests_total HTTP requests by route and status.\n"
		      "# TYPE baomi_http_requests_total counter\n");
	for (size_t r = 0; r < m->nrows; r++) {
		for (size_t s = 0; s < NSTATUS; s++) {
			uint64_t n = load(&m->rows[r].status[s]);

			if (n == 0)
				continue;
			buf_puts(out, "baomi_http_requests_total{route=\"");
			put_label(out, m->labels[r]);
			if (s < NSTATUS - 1)
				buf_printf(out, "\",code=\"%d\"} %llu\n", status_codes[s],
					   (unsigned long long)n);
			else
				buf_printf(out, "\",code=\"other\"} %llu\n", (unsigned long long)n);
		}
	}
}

static void render_histogram(struct metrics *m, size_t r, struct buf *out)
{
	uint64_t cum = 0;

	for (size_t b = 0; b < NBUCKET; b++) {
		cum += load(&m->rows[r].bucket[b]);
		buf_puts(out, "baomi_http_request_duration_seconds_bucket{route=\"");
		put_label(out, m->labels[r]);
		buf_printf(out, "\",le=\"%s\"} %llu\n", b < NBUCKET - 1 ? bucket_le[b] : "+Inf",
			   (unsigned long long)cum);
	}
	buf_puts(out, "baomi_http_request_duration_seconds_sum{route=\"");
	put_label(out, m->labels[r]);
	buf_printf(out, "\"} %.6f\n", (double)load(&m->rows[r].sum_us) / 1e6);
	buf_puts(out, "baomi_http_request_duration_seconds_count{route=\"");
	put_label(out, m->labels[r]);
	buf_printf(out, "\"} %llu\n", (unsigned long long)cum);
}

static void render_counter(struct buf *out, const char *name, const char *help,
			   const char *label, atomic_uint_fast64_t *a, const char *label2,
			   atomic_uint_fast64_t *b)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	if (label == NULL) {
		buf_printf(out, "%s %llu\n", name, (unsigned long long)load(a));
		return;
	}
	buf_printf(out, "%s{%s} %llu\n", name, label, (unsigned long long)load(a));
	buf_printf(out, "%s{%s} %llu\n", name, label2, (unsigned long long)load(b));
}

void metrics_render(struct metrics *m, struct buf *out)
{
	render_requests(m, out);
	buf_puts(out, "# HELP baomi_http_request_duration_seconds Time from the request "
		      "line until the response was sent.\n"
		      "# TYPE baomi_http_request_duration_seconds histogram\n");
	for (size_t r = 0; r < m->nrows; r++) {
		uint64_t any = 0;

		for (size_t b = 0; b < NBUCKET; b++)
			any += load(&m->rows[r].bucket[b]);
		if (any)
			render_histogram(m, r, out);
	}
	render_counter(out, "baomi_logins_total", "Login attempts by result.",
		       "result=\"ok\"", &m->login_ok, "result=\"fail\"", &m->login_fail);
	render_counter(out, "baomi_lockouts_total", "Accounts locked after failed logins.",
		       NULL, &m->lockouts, NULL, NULL);
	render_counter(out, "baomi_decisions_total", "Access decisions by result.",
		       "result=\"allow\"", &m->allow, "result=\"deny\"", &m->deny);
}
