/*
 * strmap.c - string -> int64 open-addressing map.  Slots hold the key's
 * hash and its offset in an append-only arena, so a million short keys
 * cost about 40 bytes each.  Grows at 50 % load.
 */
#include "strmap.h"
#include "mem.h"

#include <string.h>

struct slot {
	uint64_t hash;      /* 0 = empty (real hashes are forced nonzero) */
	uint64_t off;       /* key offset in the arena */
	int64_t val;
};

struct strmap {
	struct slot *slots;
	size_t cap;         /* power of two */
	size_t count;
	char *arena;        /* each key stored as u32 length + bytes */
	size_t alen, acap;
};

uint64_t strmap_hash(const char *key, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 1099511628211ULL;
	}
	h ^= h >> 29;
	return h ? h : 1;
}

struct strmap *strmap_new(void)
{
	struct strmap *m = xcalloc(1, sizeof *m);

	m->cap = 64;
	m->slots = xcalloc(m->cap, sizeof *m->slots);
	return m;
}

void strmap_free(struct strmap *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m->arena);
	free(m);
}

/* True when the arena key at off equals key[0..len). */
static bool key_eq(const struct strmap *m, uint64_t off, const char *key, size_t len)
{
	uint32_t klen;

	memcpy(&klen, m->arena + off, sizeof klen);
	return klen == len && memcmp(m->arena + off + sizeof klen, key, len) == 0;
}

static struct slot *find(const struct strmap *m, uint64_t h, const char *key, size_t len)
{
	size_t i = h & (m->cap - 1);

	for (;;) {
		struct slot *s = &m->slots[i];

		if (s->hash == 0 || (s->hash == h && key_eq(m, s->off, key, len)))
			return s;
		i = (i + 1) & (m->cap - 1);
	}
}

bool strmap_get(const struct strmap *m, const char *key, size_t len, int64_t *val)
{
	struct slot *s = find(m, strmap_hash(key, len), key, len);

	if (s->hash == 0)
		return false;
	*val = s->val;
	return true;
}

static void grow(struct strmap *m)
{
	struct slot *old = m->slots;
	size_t oldcap = m->cap;

	m->cap *= 2;
	m->slots = xcalloc(m->cap, sizeof *m->slots);
	for (size_t i = 0; i < oldcap; i++) {
		size_t j;

		if (old[i].hash == 0)
			continue;
		j = old[i].hash & (m->cap - 1);
		while (m->slots[j].hash != 0)
			j = (j + 1) & (m->cap - 1);
		m->slots[j] = old[i];
	}
	free(old);
}

static uint64_t arena_add(struct strmap *m, const char *key, size_t len)
{
	uint32_t klen = (uint32_t)len;
	size_t need = sizeof klen + len;
	uint64_t off = m->alen;

	if (m->alen + need > m->acap) {
		m->acap = m->acap ? m->acap * 2 : 4096;
		while (m->alen + need > m->acap)
			m->acap *= 2;
		m->arena = xrealloc(m->arena, m->acap);
	}
	memcpy(m->arena + m->alen, &klen, sizeof klen);
	memcpy(m->arena + m->alen + sizeof klen, key, len);
	m->alen += need;
	return off;
}

void strmap_put(struct strmap *m, const char *key, size_t len, int64_t val)
{
	uint64_t h = strmap_hash(key, len);
	struct slot *s = find(m, h, key, len);

	if (s->hash != 0) {
		s->val = val;
		return;
	}
	s->hash = h;
	s->off = arena_add(m, key, len);
	s->val = val;
	if (++m->count * 2 > m->cap)
		grow(m);
}

size_t strmap_count(const struct strmap *m)
{
	return m->count;
}
