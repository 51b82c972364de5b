/*
 * fuzz_csv.c - libFuzzer target for the CSV reader: any bytes must parse
 * into records or errors without crashing, reading out of bounds, or
 * returning a record whose fields are not valid UTF-8; a record written back
 * with the writer must read back to the same fields.
 */
#include "lib/csv.h"
#include "lib/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void round_trip(const struct csv_record *rec)
{
	struct buf b = BUF_INIT;
	struct bm_err e = BM_ERR_INIT;
	struct csv_record back;
	FILE *fp;

	csv_put_record(&b, rec->fields, rec->nfields);
	fp = fmemopen(b.p, b.len, "rb");
	if (fp == NULL)
		abort();
	struct csv_reader *r = csv_open(fp);

	if (csv_next(r, &back, &e) != 1 || back.nfields != rec->nfields)
		abort();
	for (size_t i = 0; i < rec->nfields; i++)
		if (strcmp(back.fields[i], rec->fields[i]) != 0)
			abort();
	csv_close(r);
	fclose(fp);
	buf_free(&b);
	bm_err_clear(&e);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct bm_err e = BM_ERR_INIT;
	struct csv_record rec;
	FILE *fp = fmemopen((void *)(uintptr_t)data, size ? size : 1, "rb");
	struct csv_reader *r;
	int rc, n = 0;

	if (fp == NULL || size == 0) {
		if (fp)
			fclose(fp);
		return 0;
	}
	r = csv_open(fp);
	while ((rc = csv_next(r, &rec, &e)) != 0 && n++ < 100000) {
		if (rc < 0)
			continue;
		for (size_t i = 0; i < rec.nfields; i++)
			if (!utf8_valid(rec.fields[i], rec.lens[i], NULL))
				abort();
		if (rec.nfields > 0 && !(rec.nfields == 1 && rec.lens[0] == 0))
			round_trip(&rec);
	}
	csv_close(r);
	fclose(fp);
	bm_err_clear(&e);
	return 0;
}
