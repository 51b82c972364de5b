/*
 * cmd_registry.c - units, posts, persons and appointments on the command line.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static int unit_add(struct cli *c, struct bm_err *e)
{
	struct unit_input in = {0};
	struct unit_rec r;
	const struct opt o[] = {{"name", &in.name, NULL}, {"parent", &in.parent, NULL}, {0}};
	int rc;

	if ((rc = args_parse(c, o, &in.code, 1, 1, e)) || (rc = cli_open(c, e)) ||
	    (rc = svc_unit_add(c->svc, &c->actor, &in, &r, e)))
		return rc;
	if (c->json)
		out_json(svc_unit_show(c->svc, &c->actor, r.code, e));
	else
		printf("unit %s added\n", r.code);
	return 0;
}

static const char *const unit_keys[] = {"code", "name", "parent"};
static const char *const unit_heads[] = {"CODE", "NAME", "PARENT"};

static int unit_list(struct cli *c, struct bm_err *e)
{
	const char *limit = NULL;
	const struct opt o[] = {{"limit", &limit, NULL}, {0}};
	struct svc_page pg = {0};
	json_t *v;
	int rc;

	if ((rc = args_parse(c, o, NULL, 0, 0, e)) ||
	    (limit && (rc = args_limit(limit, &pg.limit, e))) || (rc = cli_open(c, e)))
		return rc;
	v = svc_unit_list(c->svc, &c->actor, &pg, e);
	if ((rc = out_list(c, v, unit_keys, unit_heads, 3, e)) == 0)
		out_cut(c, pg.more, limit, "units");
	return rc;
}

/* Shows one record by code with the given service function. */
static int show_one(struct cli *c, json_t *(*fn)(struct svc *, const struct actor *,
						 const char *, struct bm_err *),
		    struct bm_err *e)
{
	const char *code = NULL;
	json_t *v;
	int rc;

	if ((rc = args_parse(c, NULL, &code, 1, 1, e)) || (rc = cli_open(c, e)))
		return rc;
	if ((v = fn(c->svc, &c->actor, code, e)) == NULL)
		return e->code;
	if (c->json)
		out_json(v);
	else {
		out_record(v);
		json_decref(v);
	}
	return 0;
}

static int unit_show(struct cli *c, struct bm_err *e)
{
	return show_one(c, svc_unit_show, e);
}

const struct verb cmd_unit_verbs[] = {
	{"add", "CODE --name NAME [--parent CODE]", "add a unit to the organisation tree", unit_add},
	{"list", "[--limit N]", "list every unit", unit_list},
	{"show", "CODE", "show one unit", unit_show},
	{0},
};

static int post_add(struct cli *c, struct bm_err *e)
{
	struct post_input in = {0};
	struct post_rec r;
	const struct opt o[] = {{"unit", &in.unit, NULL}, {"level", &in.level, NULL},
				{"compartments", &in.compartments, NULL},
				{"title", &in.title, NULL}, {0}};
	int rc;

	if ((rc = args_parse(c, o, &in.code, 1, 1, e)) || (rc = cli_open(c, e)) ||
	    (rc = svc_post_add(c->svc, &c->actor, &in, &r, e)))
		return rc;
	if (c->json)
		out_json(svc_post_show(c->svc, &c->actor, r.code, e));
	else
		printf("post %s added\n", r.code);
	return 0;
}

static const char *const post_keys[] = {"code", "unit", "level", "compartments", "title"};
static const char *const post_heads[] = {"CODE", "UNIT", "LEVEL", "COMPARTMENTS", "TITLE"};

static int post_list(struct cli *c, struct bm_err *e)
{
	const char *unit = NULL, *limit = NULL;
	const struct opt o[] = {{"unit", &unit, NULL}, {"limit", &limit, NULL}, {0}};
	struct svc_page pg = {0};
	json_t *v;
	int rc;

	if ((rc = args_parse(c, o, NULL, 0, 0, e)) ||
	    (limit && (rc = args_limit(limit, &pg.limit, e))) || (rc = cli_open(c, e)))
		return rc;
	v = svc_post_list(c->svc, &c->actor, unit, &pg, e);
	if ((rc = out_list(c, v, post_keys, post_heads, 5, e)) == 0)
		out_cut(c, pg.more, limit, "posts");
	return rc;
}

static int post_show(struct cli *c, struct bm_err *e)
{
	return show_one(c, svc_post_show, e);
}

const struct verb cmd_post_verbs[] = {
	{"add", "CODE --unit UNIT --level LEVEL [--compartments A,B] [--title TEXT]",
	 "add a post; LEVEL by name (secret, 机密, S) or number 0-3", post_add},
	{"list", "[--unit UNIT] [--limit N]", "list posts", post_list},
	{"show", "CODE", "show one post", post_show},
	{0},
};

static int person_add(struct cli *c, struct bm_err *e)
{
	struct person_input in = {0};
	struct person_rec r;
	const struct opt o[] = {{"name", &in.name, NULL}, {"unit", &in.unit, NULL},
				{"national-id", &in.national_id, NULL},
				{"passport", &in.passport, NULL}, {0}};
	int rc;

	if ((rc = args_parse(c, o, &in.ext_id, 1, 1, e)) || (rc = cli_open(c, e)) ||
	    (rc = svc_person_add(c->svc, &c->actor, &in, &r, e)))
		return rc;
	if (c->json)
		out_json(svc_person_show(c->svc, &c->actor, r.ext_id, false, e));
	else
		printf("person %s added\n", r.ext_id);
	return 0;
}

static int person_show(struct cli *c, struct bm_err *e)
{
	const char *id = NULL;
	bool reveal = false;
	const struct opt o[] = {{"reveal", NULL, &reveal}, {0}};
	json_t *v;
	int rc;

	if ((rc = args_parse(c, o, &id, 1, 1, e)) || (rc = cli_open(c, e)))
		return rc;
	if ((v = svc_person_show(c->svc, &c->actor, id, reveal, e)) == NULL)
		return e->code;
	if (c->json)
		out_json(v);
	else {
		out_record(v);
		json_decref(v);
	}
	return 0;
}

static const char *const person_keys[] = {"id", "name", "unit", "category", "state",
					  "compartments"};
static const char *const person_heads[] = {"ID", "NAME", "UNIT", "CATEGORY", "STATE",
					   "COMPARTMENTS"};

struct lister {
	bool json;
	bool first;
	json_t *page;
};

/* Streams rows: JSON as one array written element by element, tables by page. */
static int list_row(void *ctx, json_t *v)
{
	struct lister *l = ctx;

	if (l->json) {
		fputs(l->first ? "[\n  " : ",\n  ", stdout);
		json_dumpf(v, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		l->first = false;
		return 0;
	}
	json_array_append(l->page, v);
	if (json_array_size(l->page) >= 1000) {
		out_table(l->page, person_keys, person_heads, 6);
		json_array_clear(l->page);
	}
	return 0;
}

static int person_list(struct cli *c, struct bm_err *e)
{
	struct person_query q = {0};
	const char *limit = NULL;
	const struct opt o[] = {{"unit", &q.unit, NULL}, {"category", &q.category, NULL},
				{"state", &q.state, NULL}, {"limit", &limit, NULL}, {0}};
	struct lister l = {c->json, true, json_array()};
	struct svc_page pg = {0};
	int rc;

	q.page = &pg;
	if ((rc = args_parse(c, o, NULL, 0, 0, e)) || (rc = cli_open(c, e)) ||
	    (limit && (rc = args_limit(limit, &pg.limit, e))))
		goto out;
	rc = svc_person_list(c->svc, &c->actor, &q, list_row, &l, e);
	if (rc == 0 && c->json)
		fputs(l.first ? "[]\n" : "\n]\n", stdout);
	else if (rc == 0 && (json_array_size(l.page) > 0 || l.first))
		out_table(l.page, person_keys, person_heads, 6);
	if (rc == 0)
		out_cut(c, pg.more, limit, "persons");
out:
	json_decref(l.page);
	return rc;
}

static int person_find(struct cli *c, struct bm_err *e)
{
	const char *nid = NULL, *pp = NULL;
	const struct opt o[] = {{"national-id", &nid, NULL}, {"passport", &pp, NULL}, {0}};
	json_t *v;
	int rc;

	if ((rc = args_parse(c, o, NULL, 0, 0, e)) || (rc = cli_open(c, e)))
		return rc;
	if ((v = svc_person_find(c->svc, &c->actor, nid, pp, e)) == NULL)
		return e->code;
	if (c->json) {
		out_json(v);
		return 0;
	}
	if (json_array_size(v) == 0)
		printf("no person found\n");
	else
		out_table(v, person_keys, person_heads, 6);
	json_decref(v);
	return 0;
}

const struct verb cmd_person_verbs[] = {
	{"add", "ID --name NAME --unit UNIT [--national-id N] [--passport P]",
	 "add a person (a candidate until reviewed)", person_add},
	{"show", "ID [--reveal]", "show a person; --reveal shows sensitive fields (audited)",
	 person_show},
	{"list", "[--unit UNIT] [--category C] [--state S] [--limit N]",
	 "list persons; --unit includes the unit's subtree", person_list},
	{"find", "--national-id N | --passport P", "find persons by a sensitive number",
	 person_find},
	{0},
};

static int appt_add(struct cli *c, struct bm_err *e)
{
	struct appt_input in = {0};
	struct appt_rec r;
	const char *pos[2] = {0};
	const struct opt o[] = {{"start", &in.start, NULL}, {"end", &in.end, NULL}, {0}};
	int rc;

	if ((rc = args_parse(c, o, pos, 2, 2, e)) || (rc = cli_open(c, e)))
		return rc;
	in.person = pos[0];
	in.post = pos[1];
	if ((rc = svc_appt_add(c->svc, &c->actor, &in, &r, e)))
		return rc;
	if (c->json)
		out_json(json_pack("{s:I, s:s, s:s}", "id", (json_int_t)r.id, "person", in.person,
				   "post", in.post));
	else
		printf("appointment %lld: %s holds %s\n", (long long)r.id, in.person, in.post);
	return 0;
}

static int appt_end(struct cli *c, struct bm_err *e)
{
	const char *pos[2] = {0}, *date = NULL;
	const struct opt o[] = {{"date", &date, NULL}, {0}};
	int64_t id;
	int rc;

	if ((rc = args_parse(c, o, pos, 2, 2, e)) ||
	    (rc = args_pos_int("APPOINTMENT-ID", pos[1], &id, e)) || (rc = cli_open(c, e)) ||
	    (rc = svc_appt_end(c->svc, &c->actor, pos[0], id, date, e)))
		return rc;
	if (!c->json)
		printf("appointment %lld of %s ended\n", (long long)id, pos[0]);
	else
		out_json(json_pack("{s:I, s:b}", "id", (json_int_t)id, "ended", 1));
	return 0;
}

const struct verb cmd_appt_verbs[] = {
	{"add", "PERSON POST [--start DATE] [--end DATE]", "appoint a person to a post", appt_add},
	{"end", "PERSON APPOINTMENT-ID [--date DATE]", "end an appointment", appt_end},
	{0},
};
