/*
 * demo.c - a believable organisation for trying baomi out.
 *
 * It goes through the same service functions an officer would use, so the
 * demo database has a real audit trail and obeys every rule.  The names are
 * generated from common Chinese and English names with a fixed seed, so two
 * runs with the same seed build the same organisation.  It is one
 * transaction (svc__outer_begin): a demo stopped half-way leaves nothing.
 */
#include "svc_internal.h"
#include "../core/level.h"
#include "../core/lifecycle.h"
#include "../lib/clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct unit_input demo_units[] = {
	{"HQ", "总部 Headquarters", NULL},
	{"HQ-R", "研究院 Research Institute", "HQ"},
	{"HQ-R1", "第一研究室 Lab 1 (Cryptography)", "HQ-R"},
	{"HQ-R2", "第二研究室 Lab 2 (Satellites)", "HQ-R"},
	{"HQ-E", "工程部 Engineering", "HQ"},
	{"HQ-E1", "总装车间 Assembly", "HQ-E"},
	{"HQ-S", "保密办公室 Security Office", "HQ"},
	{"HQ-A", "行政部 Administration", "HQ"},
	{"HQ-F", "财务部 Finance", "HQ"},
	{"HQ-IT", "信息中心 IT Centre", "HQ"},
};

static const struct post_input demo_posts[] = {
	{"P-100", "HQ-R", "secret", "ALPHA,BRAVO", "Lab lead 研究室主任"},
	{"P-101", "HQ-R1", "top_secret", "ALPHA,CRYPTO", "Chief cryptographer 首席密码师"},
	{"P-102", "HQ-R1", "secret", "CRYPTO", "Cryptanalyst 密码分析员"},
	{"P-103", "HQ-R1", "confidential", "", "Research assistant 科研助理"},
	{"P-104", "HQ-R2", "top_secret", "BRAVO,ORBIT", "Chief designer 总设计师"},
	{"P-105", "HQ-R2", "secret", "ORBIT", "Orbit engineer 轨道工程师"},
	{"P-106", "HQ-R2", "confidential", "ORBIT", "Test technician 测试技术员"},
	{"P-107", "HQ-R", "secret", "ALPHA", "Project manager 项目经理"},
	{"P-200", "HQ-E", "secret", "DELTA", "Chief engineer 总工程师"},
	{"P-201", "HQ-E1", "confidential", "DELTA", "Assembly fitter 装配钳工"},
	{"P-202", "HQ-E1", "confidential", "", "Quality inspector 质检员"},
	{"P-203", "HQ-E", "secret", "DELTA,ORBIT", "Integration engineer 总体工程师"},
	{"P-204", "HQ-E1", "none", "", "Warehouse clerk 库管员"},
	{"P-300", "HQ-S", "top_secret", "", "Security director 保密办主任"},
	{"P-301", "HQ-S", "secret", "", "Security officer 保密专干"},
	{"P-302", "HQ-S", "confidential", "", "Archivist 档案管理员"},
	{"P-400", "HQ-A", "confidential", "", "Office secretary 机要秘书"},
	{"P-401", "HQ-A", "none", "", "Receptionist 前台"},
	{"P-402", "HQ-A", "secret", "", "Director's assistant 主任助理"},
	{"P-500", "HQ-F", "confidential", "", "Accountant 会计"},
	{"P-501", "HQ-F", "none", "", "Cashier 出纳"},
	{"P-600", "HQ-IT", "secret", "NET", "Network administrator 网络管理员"},
	{"P-601", "HQ-IT", "confidential", "NET", "Help desk 运维支持"},
	{"P-602", "HQ-IT", "top_secret", "NET,CRYPTO", "Key custodian 密钥管理员"},
};

static const char *surnames[] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周",
				 "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗"};
static const char *given[] = {"伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军",
			      "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀兰", "霞",
			      "平", "刚", "桂英", "建华", "晓东", "子涵", "浩然", "欣怡"};
static const char *first_en[] = {"James", "Mary", "Robert", "Patricia", "John", "Jennifer",
				 "Michael", "Linda", "David", "Elizabeth", "William", "Susan",
				 "Richard", "Jessica", "Thomas", "Sarah", "Chloé", "José"};
static const char *last_en[] = {"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia",
				"Miller", "Davis", "Wilson", "Anderson", "Taylor", "O'Neill",
				"Müller", "Nakamura"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static uint32_t rnd(uint32_t *st)
{
	uint32_t x = *st;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *st = x;
}

static void person_name(uint32_t *st, char *out, size_t cap)
{
	if (rnd(st) % 5 == 0)
		snprintf(out, cap, "%s %s", first_en[rnd(st) % N(first_en)],
			 last_en[rnd(st) % N(last_en)]);
	else
		snprintf(out, cap, "%s%s", surnames[rnd(st) % N(surnames)],
			 given[rnd(st) % N(given)]);
}

/* An 18-character resident id shape with a valid ISO 7064 check character. */
/* Person i's national id: district, birth date and sequence read from i
 * scrambled by an odd multiplier prime to the 268,800,000 combinations, so
 * no two persons share one (a number belongs to one person).  The five
 * draws keep the random stream, and so the rest of the demo, as before. */
static void national_id(uint32_t *st, int i, char out[19])
{
	static const int w[] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	uint64_t j = (uint64_t)i * 2654435761u % 268800000u;
	int sum = 0;

	for (int k = 0; k < 5; k++)
		(void)rnd(st);
	snprintf(out, 19, "1101%02u19%02u%02u%02u%03u", (unsigned)(j % 20 + 1),
		 (unsigned)(j / 20 % 40 + 60), (unsigned)(j / 800 % 12 + 1),
		 (unsigned)(j / 9600 % 28 + 1), (unsigned)(j / 268800));
	for (int k = 0; k < 17; k++)
		sum += (out[k] - '0') * w[k];
	out[17] = "10X98765432"[sum % 11];
	out[18] = '\0';
}

/* The demo's reviewers: never the opener (the demo's own actor). */
static const struct actor demo_rev1 = {.name = "demo:reviewer-li", .roles = ACTOR_LOCAL};
static const struct actor demo_rev2 = {.name = "demo:reviewer-chen", .roles = ACTOR_LOCAL};

/* A full review: open, six findings, the approvals policy needs (or a
 * rejection).  Returns the error, if any, with the review freed. */
static int demo_review(struct svc *s, const struct actor *a, const char *id, int level,
		       bool approve, struct bm_err *e)
{
	json_t *r = svc_review_open(s, a, id, level_name(level), e), *v;
	int64_t rid;

	if (r == NULL)
		return e->code;
	rid = json_integer_value(json_object_get(r, "id"));
	json_decref(r);
	for (int item = 1; item <= 6; item++) {
		if ((v = svc_review_finding(s, a, rid, item, "clear", "", 0, e)) == NULL)
			return e->code;
		json_decref(v);
	}
	if ((v = svc_review_decide(s, &demo_rev1, rid, approve, approve ? "all items clear"
					: "conduct record incomplete", 0, e)) == NULL)
		return e->code;
	json_decref(v);
	if (!approve || s->policy.cat[level].approvers < 2)
		return 0;
	if ((v = svc_review_decide(s, &demo_rev2, rid, true, "concur", 0, e)) == NULL)
		return e->code;
	json_decref(v);
	return 0;
}

/* Walks the person from candidate to target through real reviews, the
 * appointment and activation; later states follow the lifecycle. */
static int walk_to(struct svc *s, const struct actor *a, const char *id,
		   const struct appt_input *ap, int level, int target, struct bm_err *e)
{
	static const int tail[] = {ST_LEAVING, ST_DECONTAMINATION, ST_RELEASED};
	struct appt_rec ar;
	json_t *v;
	int rc;

	if (target == ST_REVIEWING || target == ST_REJECTED) {
		if (target == ST_REVIEWING) {
			v = svc_review_open(s, a, id, level_name(level), e);
			json_decref(v);
			return v ? 0 : e->code;
		}
		return demo_review(s, a, id, level, false, e);
	}
	if ((rc = demo_review(s, a, id, level, true, e)) ||
	    (rc = svc_appt_add(s, a, ap, &ar, e)) || target == ST_ONBOARDING ||
	    (rc = svc_person_activate(s, a, id, e)))
		return rc;
	if (target == ST_SUSPENDED) {
		v = svc_matter_file(s, a, id, "foreign_approach", "reported by the person", e);
		json_decref(v);
		return v ? 0 : e->code;
	}
	for (size_t i = 0; target >= ST_LEAVING && i < 3; i++)
		if ((rc = svc__person_set_state(s, a, id, tail[i], "demo", e)) || tail[i] == target)
			return rc;
	return 0;
}

/* Mostly active staff, with a realistic tail in every other state. */
static int pick_state(uint32_t *st)
{
	static const int table[] = {ST_ACTIVE, ST_ACTIVE, ST_ACTIVE, ST_ACTIVE, ST_ACTIVE,
				    ST_ACTIVE, ST_ACTIVE, ST_ACTIVE, ST_ACTIVE, ST_ACTIVE,
				    ST_ACTIVE, ST_ACTIVE, ST_CANDIDATE, ST_REVIEWING,
				    ST_ONBOARDING, ST_SUSPENDED, ST_LEAVING, ST_DECONTAMINATION,
				    ST_RELEASED, ST_REJECTED};

	return table[rnd(st) % N(table)];
}

/* Runs fn's work as of `back` seconds ago, so its review has expired by
 * now; the clock is put back afterwards as it was, fixed or real. */
static int in_the_past(struct svc *s, const struct actor *a, const char *id,
		       const struct appt_input *ap, int level, int64_t back, struct bm_err *e)
{
	int64_t was = clock_fixed();
	int rc;

	clock_set(clock_now() - back);
	rc = walk_to(s, a, id, ap, level, ST_ACTIVE, e);
	clock_set(was);
	return rc;
}

static int add_person(struct svc *s, const struct actor *a, uint32_t *st, int i,
		      struct demo_summary *sum, struct bm_err *e)
{
	char id[16], name[64], nid[19], pp[16];
	const struct post_input *post = &demo_posts[rnd(st) % N(demo_posts)];
	struct person_input in = {id, name, post->unit, nid, NULL};
	struct appt_input ap = {id, post->code, NULL, NULL};
	struct person_rec pr;
	int target = pick_state(st), level, rc;

	snprintf(id, sizeof id, "E%04d", 1001 + i);
	person_name(st, name, sizeof name);
	national_id(st, i, nid);
	if (rnd(st) % 4 == 0) {
		(void)rnd(st);          /* unique per person, as national_id */
		snprintf(pp, sizeof pp, "E%08u", (unsigned)((uint64_t)i * 2654435761u % 100000000u));
		in.passport = pp;
	}
	if ((rc = svc_person_add(s, a, &in, &pr, e)) || (rc = level_parse(post->level, "level",
									     &level, e)))
		return rc;
	sum->persons++;
	if (target == ST_CANDIDATE)
		return 0;
	if (target != ST_REVIEWING && target != ST_REJECTED)
		sum->appointments++;
	level = level > 0 ? level : LEVEL_CONFIDENTIAL;
	/* One active person in 25 was last reviewed too long ago. */
	if (target == ST_ACTIVE && rnd(st) % 25 == 0)
		return in_the_past(s, a, id, &ap, level,
				   ((int64_t)s->policy.cat[level].rereview_days + 30) * BM_DAY, e);
	if ((rc = walk_to(s, a, id, &ap, level, target, e)))
		return rc;
	/* One active person in 15 reported a matter that calls for a re-review. */
	if (target == ST_ACTIVE && rnd(st) % 15 == 0) {
		json_t *v = svc_matter_file(s, a, id, "foreign_marriage", "spouse's nationality", e);

		json_decref(v);
		return v ? 0 : e->code;
	}
	return 0;
}

static int count_cb(void *ctx, int64_t unit, int level, int state, int64_t n)
{
	struct demo_summary *sum = ctx;

	(void)unit;
	if (level >= 0 && level <= 3 && state >= 0 && state < 16)
		sum->by_level_state[level][state] += n;
	return 0;
}

int svc_demo(struct svc *s, const struct actor *a, uint32_t seed, int persons,
	     struct demo_summary *out, struct bm_err *e)
{
	uint32_t st = seed ? seed : 20261121;
	struct unit_rec u;
	struct post_rec p;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = svc__outer_begin(s, e)))
		return rc;
	for (size_t i = 0; rc == 0 && i < N(demo_units); i++, out->units++)
		rc = svc_unit_add(s, a, &demo_units[i], &u, e);
	for (size_t i = 0; rc == 0 && i < N(demo_posts); i++, out->posts++)
		rc = svc_post_add(s, a, &demo_posts[i], &p, e);
	for (int i = 0; rc == 0 && i < persons; i++)
		rc = add_person(s, a, &st, i, out, e);
	if (rc == 0)
		rc = ST(s)->person_counts(s->st, count_cb, out, e);
	if (rc != 0) {
		(void)svc__outer_end(s, false, NULL);
		return rc;
	}
	return svc__outer_end(s, true, e);
}
