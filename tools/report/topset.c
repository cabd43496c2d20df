/* noleak-report: the N entries of largest score (topset.h). */
#include "topset.h"

#include <stdlib.h>

int rep_top_init(struct rep_top *t, int cap)
{
	uint32_t slots = 2;
	while (slots < (uint32_t)cap * 2)
		slots *= 2;
	*t = (struct rep_top){ .cap = cap, .mask = slots - 1 };
	t->id = calloc((size_t)cap, sizeof *t->id);
	t->score = calloc((size_t)cap, sizeof *t->score);
	t->heap = calloc((size_t)cap, sizeof *t->heap);
	t->pos = calloc((size_t)cap, sizeof *t->pos);
	t->hash = calloc(slots, sizeof *t->hash);
	if (!t->id || !t->score || !t->heap || !t->pos || !t->hash) {
		rep_top_free(t);
		return -1;
	}
	return 0;
}

void rep_top_free(struct rep_top *t)
{
	free(t->id);
	free(t->score);
	free(t->heap);
	free(t->pos);
	free(t->hash);
	*t = (struct rep_top){ 0 };
}

static uint32_t home(const struct rep_top *t, uint64_t id)
{
	id *= 0x9e3779b97f4a7c15ULL;
	return (uint32_t)(id >> 32) & t->mask;
}

int rep_top_find(const struct rep_top *t, uint64_t id)
{
	for (uint32_t i = home(t, id); t->hash[i]; i = (i + 1) & t->mask)
		if (t->id[t->hash[i] - 1] == id)
			return (int)t->hash[i] - 1;
	return -1;
}

static void hash_add(struct rep_top *t, int slot)
{
	uint32_t i = home(t, t->id[slot]);
	while (t->hash[i])
		i = (i + 1) & t->mask;
	t->hash[i] = (uint32_t)slot + 1;
}

/* Remove slot's entry; the entries after it in its run move back so that
 * every lookup still reaches its own (no tombstones). */
static void hash_del(struct rep_top *t, int slot)
{
	uint32_t i = home(t, t->id[slot]);
	while (t->hash[i] != (uint32_t)slot + 1)
		i = (i + 1) & t->mask;
	t->hash[i] = 0;
	for (uint32_t j = (i + 1) & t->mask; t->hash[j]; j = (j + 1) & t->mask) {
		uint32_t h = home(t, t->id[t->hash[j] - 1]);
		/* j's entry may fill the hole at i unless its home lies
		 * cyclically in (i, j] */
		if (((j - h) & t->mask) >= ((j - i) & t->mask)) {
			t->hash[i] = t->hash[j];
			t->hash[j] = 0;
			i = j;
		}
	}
}

/* Heap order: least score first, the lower slot first among equals. */
static int before(const struct rep_top *t, int a, int b)
{
	if (t->score[a] != t->score[b])
		return t->score[a] < t->score[b];
	return a < b;
}

static void place(struct rep_top *t, int k, int slot)
{
	t->heap[k] = slot;
	t->pos[slot] = k;
}

static void sift(struct rep_top *t, int k)
{
	int slot = t->heap[k];
	while (k > 0 && before(t, slot, t->heap[(k - 1) / 2])) {
		place(t, k, t->heap[(k - 1) / 2]);
		k = (k - 1) / 2;
	}
	for (;;) {
		int c = 2 * k + 1;
		if (c >= t->n)
			break;
		if (c + 1 < t->n && before(t, t->heap[c + 1], t->heap[c]))
			c++;
		if (!before(t, t->heap[c], slot))
			break;
		place(t, k, t->heap[c]);
		k = c;
	}
	place(t, k, slot);
}

int rep_top_take(struct rep_top *t, uint64_t id, double score)
{
	int slot;
	if (t->n < t->cap) {
		slot = t->n++;
		place(t, slot, slot);
	} else {
		slot = t->heap[0];
		if (!(score > t->score[slot]))
			return -1;
		hash_del(t, slot);
	}
	t->id[slot] = id;
	t->score[slot] = score;
	hash_add(t, slot);
	sift(t, t->pos[slot]);
	return slot;
}

void rep_top_set(struct rep_top *t, int slot, double score)
{
	t->score[slot] = score;
	sift(t, t->pos[slot]);
}
