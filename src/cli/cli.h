/*
 * cli.h - the command-line adapter: parse, call service/, print.
 *
 * `baomi <noun> <verb> [args] [options]`.  Each verb is one function that
 * reads its options with args_parse, calls exactly one service function and
 * renders the result as a table or, with --json, as the service's JSON view.
 * No rule lives here.
 */
#ifndef BM_CLI_H
#define BM_CLI_H

#include "../lib/err.h"
#include "../service/service.h"

#include <jansson.h>
#include <stdbool.h>

struct cli {
	struct svc_paths paths;
	bool json;
	struct actor actor;
	struct svc *svc;          /* opened on demand by cli_open */
	int argc;                 /* arguments after the verb */
	char **argv;
	const char *cmd;          /* "person add", for messages */
	const char *usage;        /* the verb's usage line, for messages */
	int status;               /* exit status of a verb that succeeded with a
				   * "no": decide's deny (CLI_EXIT_DENY) */
};

/* `baomi decide` answered deny: a script's `baomi decide ... && grant`
 * must not grant.  Not an error: nothing goes to stderr. */
#define CLI_EXIT_DENY 3

struct verb {
	const char *name;
	const char *usage;        /* "ID --name NAME --unit UNIT [--national-id N]" */
	const char *summary;
	int (*fn)(struct cli *c, struct bm_err *e);
};

struct noun {
	const char *name;
	const char *summary;
	const struct verb *verbs;
};

/* One option of a verb: value options set *val, flags set *flag. */
struct opt {
	const char *name;         /* without the leading "--" */
	const char **val;
	bool *flag;
};

/* Parses c->argv: options from opts, positionals into pos[0..npos); exactly
 * nreq positionals are required.  BM_EUSAGE naming the problem otherwise:
 * an unknown option, a value option given twice, a missing or an extra
 * positional (at most 64 options). */
int args_parse(struct cli *c, const struct opt *opts, const char **pos, int nreq, int npos,
	       struct bm_err *e);
/* Parses a non-negative integer option value (field: its name, no "--"). */
int args_int(const char *field, const char *v, int64_t *out, struct bm_err *e);
/* Parses a non-negative integer positional argument; name is the one the
 * man page and the usage line give it ("REVIEW"), so the error names it. */
int args_pos_int(const char *name, const char *v, int64_t *out, struct bm_err *e);
/* Parses an integer option value from lo to hi (0 <= lo <= hi), for a value
 * the command narrows to a smaller type: more is refused, never cut. */
int args_range(const char *field, const char *v, int64_t lo, int64_t hi, int64_t *out,
	       struct bm_err *e);

/* Parses a list's --limit: 1 or more (leaving it out lists all). */
int args_limit(const char *v, int64_t *out, struct bm_err *e);

/* Opens the database named by --db/BAOMI_DB (once). */
int cli_open(struct cli *c, struct bm_err *e);

/* Prints v as indented JSON on stdout and consumes it. */
void out_json(json_t *v);
/* Prints rows of an array of objects as an aligned table of the given keys. */
void out_table(json_t *rows, const char *const *keys, const char *const *heads, int n);
/* Prints a service list (consumed): JSON with --json, else a table; a NULL
 * list means the service failed and its code is returned. */
int out_list(struct cli *c, json_t *v, const char *const *keys, const char *const *heads, int n,
	     struct bm_err *e);
/* Below a table a --limit cut (more: the service read past the page),
 * the one way every list says more exist: "more WHAT than --limit N
 * shows".  Nothing with --json, whose answer is the page alone. */
void out_cut(const struct cli *c, bool more, const char *limit, const char *what, ...)
	__attribute__((format(printf, 4, 5)));
/* Prints an object as "key: value" lines. */
void out_record(json_t *obj);
/* Prints e to stderr: message, then each item, then the count left off. */
void out_error(const struct bm_err *e);
/* Display width of UTF-8 text (East Asian wide characters count 2). */
int out_width(const char *s);
/* Prints s padded with spaces to width columns (by display width). */
void out_padded(const char *s, int width);

extern const struct noun cli_nouns[];

/* The verb tables of each noun. */
extern const struct verb cmd_unit_verbs[], cmd_post_verbs[], cmd_person_verbs[],
	cmd_appt_verbs[], cmd_import_verbs[], cmd_export_verbs[], cmd_policy_verbs[],
	cmd_audit_verbs[], cmd_account_verbs[], cmd_role_verbs[], cmd_serve_verbs[],
	cmd_review_verbs[], cmd_matter_verbs[], cmd_suspend_verbs[], cmd_reinstate_verbs[],
	cmd_activate_verbs[], cmd_status_verbs[], cmd_decide_verbs[], cmd_due_verbs[],
	cmd_report_verbs[];
int cmd_init(struct cli *c, struct bm_err *e);
int cmd_demo(struct cli *c, struct bm_err *e);

#endif
