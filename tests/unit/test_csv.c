/*
 * test_csv.c - the CSV reader and writer as the importer and exporter see
 * them: records and their line numbers, every error with its line and
 * column, resync after errors, records across block boundaries, the tap and
 * the offset, and writer -> reader round trips of hostile strings.
 *
 * Most tests render what the reader returns as text and compare it:
 * a record is "<line>[f1|f2]", an error "<line>!<column>(<code name>)".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/buf.h"
#include "lib/csv.h"
#include "lib/err.h"

/* A FILE holding exactly s[0..n); tmpfile works for empty input too. */
static FILE *file_of(const char *s, size_t n)
{
	FILE *fp = tmpfile();

	assert_non_null(fp);
	if (n > 0)
		assert_int_equal(fwrite(s, 1, n, fp), n);
	rewind(fp);
	return fp;
}

/* Reads the whole input, rendering records and errors into out. */
static void dump_n(const char *s, size_t n, struct buf *out)
{
	FILE *fp = file_of(s, n);
	struct csv_reader *r = csv_open(fp);
	struct csv_record rec;
	struct bm_err e = BM_ERR_INIT;
	int rc, guard = 0;

	while ((rc = csv_next(r, &rec, &e)) != 0) {
		assert_true(++guard < 10000);
		if (rc < 0) {
			buf_printf(out, "%ld!%s(%s)", e.line, e.field, bm_errname(rc));
			assert_int_equal(e.code, rc);
			assert_true(e.msg[0] != '\0');
			continue;
		}
		buf_printf(out, "%ld[", rec.line);
		for (size_t i = 0; i < rec.nfields; i++) {
			assert_int_equal(strlen(rec.fields[i]), rec.lens[i]);
			buf_printf(out, "%s%s", i ? "|" : "", rec.fields[i]);
		}
		buf_putc(out, ']');
	}
	/* End of input is sticky. */
	assert_int_equal(csv_next(r, &rec, &e), 0);
	csv_close(r);
	fclose(fp);
}

static void expect_n(const char *in, size_t n, const char *want)
{
	struct buf out = BUF_INIT;

	dump_n(in, n, &out);
	assert_string_equal(buf_cstr(&out), want);
	buf_free(&out);
}

static void expect(const char *in, const char *want)
{
	expect_n(in, strlen(in), want);
}

static void test_plain_records(void **state)
{
	(void)state;
	expect("id,name,unit\n1,张伟,HQ\n", "1[id|name|unit]2[1|张伟|HQ]");
	expect("a,,c\n,\n", "1[a||c]2[|]");
	expect("", "");
}

static void test_quoted_fields(void **state)
{
	(void)state;
	expect("\"a,b\",\"say \"\"hi\"\"\",\"l1\nl2\"\nx,y,z\n",
	       "1[a,b|say \"hi\"|l1\nl2]3[x|y|z]");
	expect("\"\"\n", "1[]");                      /* one empty quoted field */
	expect("\"\"\"\"\n", "1[\"]");                /* a lone quote */
	expect("\"a\r\nb\",c\r\n", "1[a\r\nb|c]");    /* CRLF kept inside quotes */
	expect("\"\",\"\"\n", "1[|]");
}

static void test_bom(void **state)
{
	(void)state;
	expect("\xEF\xBB\xBFid,name\n1,x\n", "1[id|name]2[1|x]");
	expect("\xEF\xBB\xBF", "");
	/* Only a leading BOM is dropped; U+FEFF later is data. */
	expect("a\n\xEF\xBB\xBF" "b\n", "1[a]2[\xEF\xBB\xBF" "b]");
	/* A truncated BOM is just invalid UTF-8. */
	expect("\xEF\xBB" "a\n", "1!1(invalid)");
}

static void test_line_ends(void **state)
{
	(void)state;
	expect("a,b\r\nc,d\r\n", "1[a|b]2[c|d]");
	expect("a,b\nc,d\r\ne,f\n", "1[a|b]2[c|d]3[e|f]");
	expect("a,b\nc,d", "1[a|b]2[c|d]");           /* no final line end */
	expect("a,", "1[a|]");
	expect("\"x\"", "1[x]");
	expect("a\r", "1[a]");                        /* CR at the very end */
}

static void test_blank_lines_skipped(void **state)
{
	(void)state;
	expect("\n\na\n\r\n\nb\n\n", "3[a]6[b]");
	expect("\n\n\n", "");
	expect("  \n", "1[  ]");                      /* spaces are a field */
	expect(",\n", "1[|]");                        /* two empty fields */
}

static void test_error_unterminated(void **state)
{
	(void)state;
	expect("a,b\nc,\"open\nmore\n", "1[a|b]2!2(invalid)");
	expect("\"", "1!1(invalid)");
}

static void test_error_quote_in_unquoted(void **state)
{
	(void)state;
	expect("a,b\"c,d\ne,f\n", "1!2(invalid)2[e|f]");
	expect("x\na,b,c\"\ne\n", "1[x]2!3(invalid)3[e]");
}

static void test_error_after_closing_quote(void **state)
{
	(void)state;
	expect("\"ab\"c,d\nx\n", "1!1(invalid)2[x]");
	expect("a,\"b\" ,c\nx\n", "1!2(invalid)2[x]");
	/* The record started on line 1; the resync lands on line 4. */
	expect("\"a\nb\",\"c\nd\"e\nf\n", "1!2(invalid)4[f]");
}

static void test_error_invalid_utf8(void **state)
{
	(void)state;
	expect("ok,\xC0\xAF,z\nnext\n", "1!2(invalid)2[next]");
	expect("a\nb,c,\"\xED\xA0\x80\"\nd\n", "1[a]2!3(invalid)3[d]");
	expect("\"\xE5\xBC\nx\"\ny\n", "1!1(invalid)3[y]");  /* split by a quoted LF */
}

static void test_error_nul(void **state)
{
	(void)state;
	expect_n("a,b\0c\nd\n", 8, "1!2(invalid)2[d]");
	expect_n("\"a\0\"\nd\n", 7, "1!1(invalid)2[d]");
	expect_n("\"a\"\0\nd\n", 7, "1!1(invalid)2[d]");
	expect_n("\0", 1, "1!1(invalid)");
}

static void test_error_bare_cr(void **state)
{
	(void)state;
	expect("a,b\rc\nd\n", "1!2(invalid)2[d]");
}

static void test_errors_collected_with_lines(void **state)
{
	(void)state;
	expect("h1,h2\n"
	       "ok,1\n"
	       "bad\"q,2\n"
	       "\"multi\nline\",3\n"
	       "\"x\"y,4\n"
	       "\n"
	       "ok,\xFF\n"
	       "last,5",
	       "1[h1|h2]2[ok|1]3!1(invalid)4[multi\nline|3]6!1(invalid)8!2(invalid)9[last|5]");
}

/* A file with one record of n field bytes (plus an LF) between two others. */
static void big_record(size_t n, bool quoted, struct buf *in)
{
	buf_puts(in, "first\n");
	if (quoted)
		buf_putc(in, '"');
	for (size_t i = 0; i < n; i++)
		buf_putc(in, quoted && i % 1000 == 999 ? '\n' : 'x');
	if (quoted)
		buf_putc(in, '"');
	buf_puts(in, ",tail\nafter\n");
}

static void test_record_too_big(void **state)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	char want[64];

	(void)state;
	big_record(CSV_MAX_RECORD, false, &in);
	dump_n(in.p, in.len, &out);
	assert_string_equal(buf_cstr(&out), "1[first]2!1(too_big)3[after]");
	buf_reset(&in);
	buf_reset(&out);
	/* Quoted with LFs inside: the resync is at the next line after the cap. */
	big_record(3 * CSV_MAX_RECORD, true, &in);
	dump_n(in.p, in.len, &out);
	assert_true(strncmp(buf_cstr(&out), "1[first]2!1(too_big)", 20) == 0);
	snprintf(want, sizeof want, "%u[after]", 2 + 3 * CSV_MAX_RECORD / 1000 + 1);
	assert_non_null(strstr(buf_cstr(&out), want));
	buf_free(&in);
	buf_free(&out);
}

static void test_record_just_under_cap(void **state)
{
	struct buf in = BUF_INIT;
	FILE *fp;
	struct csv_reader *r;
	struct csv_record rec;
	struct bm_err e = BM_ERR_INIT;
	size_t n = CSV_MAX_RECORD - 6;  /* + ",tail\n" is exactly the cap */

	(void)state;
	big_record(n, false, &in);
	fp = file_of(in.p, in.len);
	r = csv_open(fp);
	assert_int_equal(csv_next(r, &rec, &e), 1);
	assert_int_equal(csv_next(r, &rec, &e), 1);
	assert_int_equal(rec.nfields, 2);
	assert_int_equal(rec.lens[0], n);
	assert_string_equal(rec.fields[1], "tail");
	assert_int_equal(csv_next(r, &rec, &e), 1);
	assert_string_equal(rec.fields[0], "after");
	assert_int_equal(rec.line, 3);
	csv_close(r);
	fclose(fp);
	buf_free(&in);
}

/* Places a tricky record so the 1 MiB block boundary falls at each of its
 * bytes in turn: inside the doubled quote, between CR and LF, and so on. */
static void test_block_boundary_every_offset(void **state)
{
	static const char tricky[] = "\"q\"\"x\",\"a\r\nb\",\xE5\xBC\xA0\r\n";
	const size_t block = 1u << 20, tl = sizeof tricky - 1;

	(void)state;
	for (size_t k = 0; k <= tl; k++) {
		struct buf in = BUF_INIT, want = BUF_INIT, out = BUF_INIT;
		size_t pad = block - k - 4;  /* "pad" line: pad bytes + LF before */

		buf_puts(&in, "x,y\n");
		buf_reserve(&in, pad + 64);
		memset(in.p + in.len, 'p', pad - 1);
		in.len += pad - 1;
		buf_puts(&in, "\n");
		buf_puts(&in, tricky);
		buf_puts(&in, "end,1\n");
		assert_int_equal(in.len - tl - 6, block - k);
		dump_n(in.p, in.len, &out);
		buf_puts(&want, "1[x|y]2[");
		buf_append(&want, in.p + 4, pad - 1);
		buf_puts(&want, "]3[q\"x|a\r\nb|张]5[end|1]");
		assert_string_equal(buf_cstr(&out), buf_cstr(&want));
		buf_free(&in);
		buf_free(&want);
		buf_free(&out);
	}
}

/* Tap: an order-sensitive checksum and a byte count of what went past. */
struct tap_sum {
	uint64_t n, h;
	int calls;
};

static void tap_fn(void *ctx, const void *p, size_t n)
{
	struct tap_sum *t = ctx;
	const unsigned char *u = p;

	t->calls++;
	for (size_t i = 0; i < n; i++)
		t->h = (t->h ^ u[i]) * 1099511628211ULL;
	t->n += n;
}

static void test_tap_and_offset(void **state)
{
	const char *s = "\xEF\xBB\xBF" "a,b\nc,d\n";
	struct tap_sum t = {0, 14695981039346656037ULL, 0}, want = t;
	FILE *fp = file_of(s, strlen(s));
	struct csv_reader *r = csv_open(fp);
	struct csv_record rec;
	struct bm_err e = BM_ERR_INIT;

	(void)state;
	csv_set_tap(r, tap_fn, &t);
	assert_int_equal(csv_offset(r), 0);
	assert_int_equal(csv_next(r, &rec, &e), 1);
	assert_int_equal(csv_offset(r), 7);  /* BOM + "a,b\n" */
	assert_int_equal(csv_next(r, &rec, &e), 1);
	assert_int_equal(csv_next(r, &rec, &e), 0);
	assert_int_equal(csv_offset(r), strlen(s));
	tap_fn(&want, s, strlen(s));
	assert_int_equal(t.n, strlen(s));
	assert_true(t.h == want.h);  /* the BOM is tapped too: exact file bytes */
	csv_close(r);
	fclose(fp);
}

static void test_tap_sees_every_block(void **state)
{
	struct buf in = BUF_INIT;
	struct tap_sum t = {0, 14695981039346656037ULL, 0}, want = t;
	FILE *fp;
	struct csv_reader *r;
	struct csv_record rec;
	struct bm_err e = BM_ERR_INIT;
	long rows = 0;

	(void)state;
	for (int i = 0; i < 60000; i++)
		buf_printf(&in, "%d,name %d,\"q\"\"%d\"\r\n", i, i, i);
	fp = file_of(in.p, in.len);
	r = csv_open(fp);
	csv_set_tap(r, tap_fn, &t);
	while (csv_next(r, &rec, &e) == 1) {
		assert_int_equal(atol(rec.fields[0]), rows);
		assert_int_equal(rec.line, rows + 1);
		rows++;
	}
	assert_int_equal(rows, 60000);
	assert_true(t.calls >= 2);  /* the input is larger than one block */
	tap_fn(&want, in.p, in.len);
	assert_true(t.n == in.len && t.h == want.h);
	assert_int_equal(csv_offset(r), in.len);
	csv_close(r);
	fclose(fp);
	buf_free(&in);
}

static void test_read_error(void **state)
{
	FILE *fp = fopen("/dev/null", "w");  /* reading it fails */
	struct csv_reader *r;
	struct csv_record rec;
	struct bm_err e = BM_ERR_INIT;

	(void)state;
	assert_non_null(fp);
	r = csv_open(fp);
	assert_int_equal(csv_next(r, &rec, &e), BM_EIO);
	csv_close(r);
	fclose(fp);
}

static void expect_field(const char *s, const char *want)
{
	struct buf b = BUF_INIT;

	csv_put_field(&b, s);
	assert_string_equal(buf_cstr(&b), want);
	buf_free(&b);
}

static void test_writer_quoting(void **state)
{
	struct buf b = BUF_INIT;
	const char *rec[] = {"1", "a,b", NULL};

	(void)state;
	expect_field("plain", "plain");
	expect_field("", "");
	expect_field(NULL, "");
	expect_field("a,b", "\"a,b\"");
	expect_field("say \"hi\"", "\"say \"\"hi\"\"\"");
	expect_field("l1\nl2", "\"l1\nl2\"");
	expect_field("cr\r", "\"cr\r\"");
	expect_field(" lead", "\" lead\"");
	expect_field("trail\t", "\"trail\t\"");
	expect_field("in side", "in side");
	expect_field("张伟", "张伟");
	/* Found by fuzz/fuzz_csv: an unquoted leading U+FEFF read back as a BOM. */
	expect_field("\xEF\xBB\xBF" "x", "\"\xEF\xBB\xBF" "x\"");
	csv_put_record(&b, rec, 3);
	assert_string_equal(buf_cstr(&b), "1,\"a,b\",\r\n");
	buf_reset(&b);
	csv_put_record(&b, (const char *const[]){""}, 1);
	assert_string_equal(buf_cstr(&b), "\"\"\r\n");
	buf_free(&b);
}

static const char *const hostile[] = {
	"", "plain", "a,b", "\"", "\"\"", "say \"hi\", ok", "\r\n", "\n", "\r", "a\rb",
	" padded ", "\ttab", "张伟，李娜", "王\"芳\"", "🔒🔑", "emoji 👩‍💻,\"x\"\r\ny",
	",,,", "trailing,", "=SUM(A1)", "\xEF\xBB\xBF" "bom-inside",
};
#define NHOSTILE (sizeof hostile / sizeof hostile[0])

/* Every hostile string in every position survives writer -> reader. */
static void test_round_trip_hostile(void **state)
{
	struct buf b = BUF_INIT;
	const char *row[3];
	FILE *fp;
	struct csv_reader *r;
	struct csv_record rec;
	struct bm_err e = BM_ERR_INIT;

	(void)state;
	for (size_t i = 0; i < NHOSTILE; i++) {
		row[0] = hostile[i];
		row[1] = hostile[(i + 1) % NHOSTILE];
		row[2] = hostile[(i + 7) % NHOSTILE];
		csv_put_record(&b, row, 3);
		csv_put_record(&b, &hostile[i], 1);
	}
	fp = file_of(b.p, b.len);
	r = csv_open(fp);
	for (size_t i = 0; i < NHOSTILE; i++) {
		assert_int_equal(csv_next(r, &rec, &e), 1);
		assert_int_equal(rec.nfields, 3);
		assert_string_equal(rec.fields[0], hostile[i]);
		assert_string_equal(rec.fields[1], hostile[(i + 1) % NHOSTILE]);
		assert_string_equal(rec.fields[2], hostile[(i + 7) % NHOSTILE]);
		assert_int_equal(csv_next(r, &rec, &e), 1);
		assert_int_equal(rec.nfields, 1);
		assert_string_equal(rec.fields[0], hostile[i]);
	}
	assert_int_equal(csv_next(r, &rec, &e), 0);
	csv_close(r);
	fclose(fp);
	buf_free(&b);
}

/* Many varied records written and read back across several blocks. */
static void test_round_trip_large(void **state)
{
	struct buf b = BUF_INIT, f = BUF_INIT;
	FILE *fp;
	struct csv_reader *r;
	struct csv_record rec;
	struct bm_err e = BM_ERR_INIT;
	const size_t nrec = 40000;
	char id[32];

	(void)state;
	for (size_t i = 0; i < nrec; i++) {
		snprintf(id, sizeof id, "%zu", i);
		buf_reset(&f);
		for (size_t k = 0; k < i % 97; k++)
			buf_puts(&f, hostile[(i + k) % NHOSTILE]);
		csv_put_record(&b, (const char *const[]){id, f.p ? f.p : "", "x"}, 3);
	}
	assert_true(b.len > 3 * (1u << 20));
	fp = file_of(b.p, b.len);
	r = csv_open(fp);
	for (size_t i = 0; i < nrec; i++) {
		assert_int_equal(csv_next(r, &rec, &e), 1);
		assert_int_equal(rec.nfields, 3);
		buf_reset(&f);
		for (size_t k = 0; k < i % 97; k++)
			buf_puts(&f, hostile[(i + k) % NHOSTILE]);
		assert_int_equal(strtoul(rec.fields[0], NULL, 10), i);
		assert_int_equal(rec.lens[1], f.len);
		assert_memory_equal(rec.fields[1], f.len ? f.p : "", f.len);
	}
	assert_int_equal(csv_next(r, &rec, &e), 0);
	csv_close(r);
	fclose(fp);
	buf_free(&b);
	buf_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_records),
		cmocka_unit_test(test_quoted_fields),
		cmocka_unit_test(test_bom),
		cmocka_unit_test(test_line_ends),
		cmocka_unit_test(test_blank_lines_skipped),
		cmocka_unit_test(test_error_unterminated),
		cmocka_unit_test(test_error_quote_in_unquoted),
		cmocka_unit_test(test_error_after_closing_quote),
		cmocka_unit_test(test_error_invalid_utf8),
		cmocka_unit_test(test_error_nul),
		cmocka_unit_test(test_error_bare_cr),
		cmocka_unit_test(test_errors_collected_with_lines),
		cmocka_unit_test(test_record_too_big),
		cmocka_unit_test(test_record_just_under_cap),
		cmocka_unit_test(test_block_boundary_every_offset),
		cmocka_unit_test(test_tap_and_offset),
		cmocka_unit_test(test_tap_sees_every_block),
		cmocka_unit_test(test_read_error),
		cmocka_unit_test(test_writer_quoting),
		cmocka_unit_test(test_round_trip_hostile),
		cmocka_unit_test(test_round_trip_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
