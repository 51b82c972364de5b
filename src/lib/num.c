/*
 * num.c - decimal integers from text: digits only, range-checked, no
 * overflow.  Never skips blanks or takes a sign (see num.h).
 */
#include "num.h"

#include <stddef.h>

bool num_parse(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	int64_t v = 0;
	size_t i = 0;

	if (s == NULL || s[0] == '\0' || lo < 0)
		return false;
	for (; s[i] != '\0'; i++) {
		int d = s[i] - '0';

		if (d < 0 || d > 9 || v > (INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (v < lo || v > hi)
		return false;
	*out = v;
	return true;
}
