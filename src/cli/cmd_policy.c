/*
 * cmd_policy.c - `baomi policy show|load|versions` and `baomi audit verify|log`.
 */
#include "cli.h"
#include "../core/level.h"
#include "../lib/buf.h"
#include "../lib/crypto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void show_category(json_t *cats, const char *name)
{
	json_t *c = json_object_get(cats, name);

	if (c == NULL)
		return;
	printf("  %-8s re-review %4lld d  decontamination %4lld d (%lld-%lld)  training %3lld h  "
	       "exam %lld%%/%lld d  renewal %lld d  approvers %lld\n", name,
	       (long long)json_integer_value(json_object_get(c, "rereview_days")),
	       (long long)json_integer_value(json_object_get(c, "decontamination_days")),
	       (long long)json_integer_value(json_object_get(c, "decontamination_min_days")),
	       (long long)json_integer_value(json_object_get(c, "decontamination_max_days")),
	       (long long)json_integer_value(json_object_get(c, "training_hours")),
	       (long long)json_integer_value(json_object_get(c, "exam_pass_percent")),
	       (long long)json_integer_value(json_object_get(c, "exam_valid_days")),
	       (long long)json_integer_value(json_object_get(c, "renewal_days")),
	       (long long)json_integer_value(json_object_get(c, "approvers")));
}

static int policy_show(struct cli *c, struct bm_err *e)
{
	json_t *v;
	int rc;

	if ((rc = args_parse(c, NULL, NULL, 0, 0, e)) || (rc = cli_open(c, e)))
		return rc;
	if ((v = svc_policy_show(c->svc, &c->actor, e)) == NULL)
		return e->code;
	if (c->json) {
		out_json(v);
		return 0;
	}
	printf("policy version %lld, profile %s, commitment %s\n",
	       (long long)json_integer_value(json_object_get(v, "version")),
	       json_string_value(json_object_get(v, "profile")),
	       json_string_value(json_object_get(v, "commitment")));
	show_category(json_object_get(v, "categories"), "core");
	show_category(json_object_get(v, "categories"), "key");
	show_category(json_object_get(v, "categories"), "general");
	json_decref(v);
	return 0;
}

/* Reads a whole file into b, refusing anything over 1 MiB. */
static int slurp(const char *path, struct buf *b, struct bm_err *e)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char chunk[8192];
	size_t n;

	if (fp == NULL)
		return bm_errf(e, errno == ENOENT ? BM_ENOINPUT : BM_EIO, "file", "%s: %s", path,
			       strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		buf_append(b, chunk, n);
		if (b->len > (1u << 20))
			break;
	}
	if (fp != stdin)
		fclose(fp);
	if (b->len > (1u << 20))
		return bm_errf(e, BM_ETOOBIG, "file", "%s: larger than 1 MiB", path);
	return 0;
}

static int policy_load(struct cli *c, struct bm_err *e)
{
	const char *path = NULL;
	struct buf doc = BUF_INIT;
	int64_t version = 0;
	int rc;

	if ((rc = args_parse(c, NULL, &path, 1, 1, e)) || (rc = slurp(path, &doc, e)) ||
	    (rc = cli_open(c, e)) ||
	    (rc = svc_policy_load(c->svc, &c->actor, buf_cstr(&doc), doc.len, 0, &version, e)))
		goto out;
	if (c->json)
		out_json(json_pack("{s:I}", "version", (json_int_t)version));
	else
		printf("policy version %lld stored and in force\n", (long long)version);
out:
	buf_free(&doc);
	return rc;
}

static const char *const ver_keys[] = {"version", "profile", "created", "actor"};
static const char *const ver_heads[] = {"VERSION", "PROFILE", "CREATED", "BY"};

static int policy_versions(struct cli *c, struct bm_err *e)
{
	const char *limit = NULL;
	const struct opt o[] = {{"limit", &limit, NULL}, {0}};
	struct svc_page pg = {0};
	json_t *v;
	int rc;

	if ((rc = args_parse(c, o, NULL, 0, 0, e)) ||
	    (limit && (rc = args_limit(limit, &pg.limit, e))) || (rc = cli_open(c, e)))
		return rc;
	v = svc_policy_versions(c->svc, &c->actor, &pg, e);
	if ((rc = out_list(c, v, ver_keys, ver_heads, 4, e)) == 0)
		out_cut(c, pg.more, limit, "policy versions");
	return rc;
}

const struct verb cmd_policy_verbs[] = {
	{"show", "", "show the policy in force", policy_show},
	{"load", "FILE.json", "validate and store a new policy version", policy_load},
	{"versions", "[--limit N]", "list stored policy versions, oldest first", policy_versions},
	{0},
};
