/*
 * bench_audit_step.c - events per second of audit_verify_step alone on
 * typical events (about 200-byte fields), with the SHA-NI and the portable
 * block function, against a reference measured in the same run: libsodium
 * hashing the same preimages (no formatting, no checks).  One JSON object
 * per line.  `audit verify` needs >= 1,000,000 events/s overall.
 */
#include "core/audit.h"
#include "lib/crypto.h"
#include "lib/mem.h"

#include <sodium.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#define NEV 100000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A chain of NEV sealed events; strings are owned by the array. */
static struct audit_event *make_chain(struct buf *scratch, size_t *avg_fields)
{
	struct audit_event *ev = xcalloc(NEV, sizeof *ev);
	size_t total = 0;

	for (int i = 0; i < NEV; i++) {
		char subjects[32], fields[320];

		snprintf(subjects, sizeof subjects, "[\"E%06d\"]", i);
		snprintf(fields, sizeof fields,
			 "{\"appointment\":{\"from\":\"2024-03-01\",\"post\":\"P-%04d\"},"
			 "\"level\":%d,\"name\":\"张三丰%d\",\"national_id\":\"(sealed)\","
			 "\"note\":\"annual review completed; training 15h; exam 92%%\","
			 "\"unit\":\"U-%05d\"}", i % 977, i % 4, i, i % 4001);
		total += strlen(fields);
		ev[i].seq = i + 1;
		ev[i].time_ms = 1700000000000 + i * 37;
		ev[i].actor = "secadmin";
		ev[i].action = "person.update";
		ev[i].subjects = xstrdup(subjects);
		ev[i].fields = xstrdup(fields);
		if (i > 0)
			memcpy(ev[i].prev, ev[i - 1].hash, 32);
		audit_seal(&ev[i], scratch);
	}
	*avg_fields = total / NEV;
	return ev;
}

/* Verifies the whole chain repeatedly for about a second; events/s. */
static double verify_rate(const struct audit_event *ev, struct buf *scratch)
{
	size_t done = 0;
	double t0 = now(), t;

	do {
		uint8_t zero[32] = {0};

		for (int i = 0; i < NEV; i++) {
			int f = audit_verify_step(&ev[i], i ? ev[i - 1].seq : 0,
						  i ? ev[i - 1].hash : zero, scratch);

			if (f != AUDIT_OK) {
				fprintf(stderr, "fault %s at %d\n", audit_fault_name(f), i);
				exit(1);
			}
		}
		done += NEV;
		t = now() - t0;
	} while (t < 1.0);
	return (double)done / t;
}

/* Reference: libsodium hashing the preimages, built once beforehand. */
static double reference_rate(const struct audit_event *ev)
{
	struct buf all = BUF_INIT;
	size_t *off = xcalloc(NEV + 1, sizeof *off), done = 0;
	uint8_t h[32];
	double t0, t;

	for (int i = 0; i < NEV; i++) {
		off[i] = all.len;
		audit_preimage(&ev[i], &all);
	}
	off[NEV] = all.len;
	t0 = now();
	do {
		for (int i = 0; i < NEV; i++)
			crypto_hash_sha256(h, (const uint8_t *)all.p + off[i], off[i + 1] - off[i]);
		done += NEV;
		t = now() - t0;
	} while (t < 1.0);
	printf("{\"bench\":\"audit_step\",\"avg_preimage_bytes\":%zu}\n", all.len / NEV);
	buf_free(&all);
	free(off);
	return (double)done / t;
}

int main(void)
{
	struct buf scratch = BUF_INIT;
	struct audit_event *ev;
	size_t avg;

	if (sodium_init() < 0)
		return 1;
	ev = make_chain(&scratch, &avg);
	printf("{\"bench\":\"audit_step\",\"events\":%d,\"avg_fields_bytes\":%zu}\n", NEV, avg);
	sha256_force_portable(false);
	printf("{\"bench\":\"audit_step\",\"sha256\":\"%s\",\"events_per_s\":%.0f}\n",
	       sha256_impl(), verify_rate(ev, &scratch));
	sha256_force_portable(true);
	printf("{\"bench\":\"audit_step\",\"sha256\":\"portable\",\"events_per_s\":%.0f}\n",
	       verify_rate(ev, &scratch));
	printf("{\"bench\":\"audit_step\",\"reference\":\"libsodium sha256 of preimage only\","
	       "\"events_per_s\":%.0f}\n", reference_rate(ev));
	for (int i = 0; i < NEV; i++) {
		free((char *)(uintptr_t)ev[i].subjects);
		free((char *)(uintptr_t)ev[i].fields);
	}
	free(ev);
	buf_free(&scratch);
	return 0;
}
