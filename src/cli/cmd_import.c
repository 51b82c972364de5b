/*
 * cmd_import.c - `baomi import KIND FILE` and `baomi export KIND`.
 * A progress bar is drawn on stderr only when stderr is a terminal.
 */
#include "cli.h"
#include "../lib/crypto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct progress {
	uint64_t total;
	bool tty;
};

static void draw(void *ctx, uint64_t bytes)
{
	struct progress *p = ctx;
	int pct, bars;

	if (!p->tty || p->total == 0)
		return;
	pct = (int)(bytes * 100 / p->total);
	if (pct > 100)
		pct = 100;
	bars = pct / 4;
	fprintf(stderr, "\r[%.*s%*s] %3d%%", bars, "=========================", 25 - bars, "",
		pct);
	if (bytes >= p->total)
		fputc('\n', stderr);
}

static int open_input(const char *path, FILE **fp, struct progress *p, struct bm_err *e)
{
	struct stat sb;

	if (strcmp(path, "-") == 0) {
		*fp = stdin;
		return 0;
	}
	*fp = fopen(path, "rb");
	if (*fp == NULL)
		return bm_errf(e, errno == ENOENT ? BM_ENOINPUT : BM_EIO, "file", "%s: %s", path,
			       strerror(errno));
	if (fstat(fileno(*fp), &sb) == 0 && S_ISREG(sb.st_mode))
		p->total = (uint64_t)sb.st_size;
	else if (S_ISDIR(sb.st_mode)) {
		fclose(*fp);
		return bm_errf(e, BM_ENOINPUT, "file", "%s: is a directory", path);
	}
	return 0;
}

static int kind_arg(const char *s, int *kind, struct bm_err *e)
{
	if (import_kind_parse(s, kind) != 0)
		return bm_errf(e, BM_EUSAGE, "kind",
			       "unknown kind \"%.32s\": use units, posts, persons or appointments", s);
	return 0;
}

static int import_run(struct cli *c, struct bm_err *e)
{
	const char *kindname = c->cmd + strlen("import "), *path = NULL;
	struct progress p = {0, isatty(2) == 1};
	struct import_result r;
	char hex[65];
	FILE *fp = NULL;
	int kind, rc;

	if ((rc = args_parse(c, NULL, &path, 1, 1, e)) || (rc = kind_arg(kindname, &kind, e)) ||
	    (rc = open_input(path, &fp, &p, e)))
		return rc;
	if ((rc = cli_open(c, e)) == 0)
		rc = svc_import(c->svc, &c->actor, kind, fp, draw, &p, &r, e);
	if (fp != stdin)
		fclose(fp);
	if (rc)
		return rc;
	hex_encode(r.sha256, 32, hex);
	if (c->json)
		out_json(json_pack("{s:s, s:I, s:I, s:I, s:s}", "kind", kindname, "rows",
				   (json_int_t)r.rows, "added", (json_int_t)r.added, "unchanged",
				   (json_int_t)r.unchanged, "sha256", hex));
	else
		printf("imported %s: %lld rows, %lld added, %lld unchanged (sha256 %s)\n", kindname,
		       (long long)r.rows, (long long)r.added, (long long)r.unchanged, hex);
	return 0;
}

const struct verb cmd_import_verbs[] = {
	{"units", "FILE", "import units (code,name,parent)", import_run},
	{"posts", "FILE", "import posts (code,unit,level,compartments,title)", import_run},
	{"persons", "FILE", "import persons (id,name,unit,national_id,passport)", import_run},
	{"appointments", "FILE", "import appointments (person,post,start,end)", import_run},
	{0},
};

static int export_run(struct cli *c, struct bm_err *e)
{
	const char *kindname = c->cmd + strlen("export ");
	int kind, rc;

	if ((rc = args_parse(c, NULL, NULL, 0, 0, e)) || (rc = kind_arg(kindname, &kind, e)) ||
	    (rc = cli_open(c, e)))
		return rc;
	return svc_export(c->svc, &c->actor, kind, stdout, e);
}

const struct verb cmd_export_verbs[] = {
	{"units", "", "write units as CSV on stdout", export_run},
	{"posts", "", "write posts as CSV on stdout", export_run},
	{"persons", "", "write persons as CSV (no sensitive columns)", export_run},
	{"appointments", "", "write appointments as CSV", export_run},
	{0},
};
