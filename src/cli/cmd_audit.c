/*
 * cmd_audit.c - `baomi audit verify` and `baomi audit log`.
 */
#include "cli.h"
#include "../core/audit.h"
#include "../lib/crypto.h"

#include <stdio.h>
#include <string.h>

static int audit_verify(struct cli *c, struct bm_err *e)
{
	struct audit_verdict v;
	char head[65];
	int rc;

	if ((rc = args_parse(c, NULL, NULL, 0, 0, e)) || (rc = cli_open(c, e)) ||
	    (rc = svc_audit_verify(c->svc, &c->actor, &v, e)))
		return rc;
	hex_encode(v.head, 32, head);
	if (c->json)
		out_json(json_pack("{s:b, s:I, s:s, s:s?, s:I}", "ok", v.fault == AUDIT_OK, "count",
				   (json_int_t)v.count, "head", head, "fault",
				   v.fault ? audit_fault_name(v.fault) : NULL, "fault_seq",
				   (json_int_t)v.fault_seq));
	else if (v.fault == AUDIT_OK)
		printf("audit trail intact: %lld events, head %s\n", (long long)v.count, head);
	if (v.fault == AUDIT_OK)
		return 0;
	return bm_errf(e, BM_ECRYPTO, "seq", "audit trail broken at seq %lld: %s (%lld events "
		       "verified before it)", (long long)v.fault_seq, audit_fault_name(v.fault),
		       (long long)v.count);
}

struct log_out {
	bool json;
	bool first;
};

static int log_row(void *ctx, json_t *ev)
{
	struct log_out *l = ctx;
	char *fields;

	if (l->json) {
		fputs(l->first ? "[\n  " : ",\n  ", stdout);
		json_dumpf(ev, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
		l->first = false;
		return 0;
	}
	fields = json_dumps(json_object_get(ev, "fields"), JSON_COMPACT);
	printf("%6lld  %s  ", (long long)json_integer_value(json_object_get(ev, "seq")),
	       json_string_value(json_object_get(ev, "time")));
	out_padded(json_string_value(json_object_get(ev, "actor")), 17);
	printf("%-20s %s\n", json_string_value(json_object_get(ev, "action")),
	       fields ? fields : "");
	free(fields);
	l->first = false;
	return 0;
}

static int audit_log(struct cli *c, struct bm_err *e)
{
	struct audit_query q = {0};
	const char *limit = NULL;
	const struct opt o[] = {{"since", &q.since, NULL}, {"actor", &q.actor, NULL},
				{"subject", &q.subject, NULL}, {"action", &q.action, NULL},
				{"limit", &limit, NULL}, {0}};
	struct log_out l = {c->json, true};
	struct svc_page pg = {0};
	int rc;

	q.page = &pg;
	if ((rc = args_parse(c, o, NULL, 0, 0, e)) ||
	    (limit && (rc = args_limit(limit, &pg.limit, e))) || (rc = cli_open(c, e)) ||
	    (rc = svc_audit_log(c->svc, &c->actor, &q, log_row, &l, e)))
		return rc;
	if (c->json)
		fputs(l.first ? "[]\n" : "\n]\n", stdout);
	out_cut(c, pg.more, limit, "events");
	return 0;
}

const struct verb cmd_audit_verbs[] = {
	{"verify", "", "check the whole hash chain; exit 1 naming the first bad seq", audit_verify},
	{"log", "[--since DATE] [--actor A] [--subject ID] [--action A] [--limit N]",
	 "list audit events (--action accepts a trailing * as prefix match)", audit_log},
	{0},
};
