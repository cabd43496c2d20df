/* The N entries of largest score among many ids, as noleak-report keeps
 * its --top longest blocked reads: each line finds its id's entry, or
 * takes a slot for a new id (a free one, or the one of least score when
 * the new score is larger), in O(log N) rather than a scan of all N.
 *
 * Slots are the indices 0 .. n-1 of the caller's array of entries, filled
 * in order; an evicted entry's slot is reused for the new id.  The entry
 * evicted is the one of least score, and among equal scores the one in
 * the lowest slot (what a scan of the array for the first minimum picks).
 * A min-heap over (score, slot) finds it, a hash on the id finds an entry. */
#ifndef NL_REPORT_TOPSET_H
#define NL_REPORT_TOPSET_H

#include <stdint.h>

struct rep_top {
	int cap, n;              /* slots allowed, slots in use */
	uint64_t *id;            /* per slot */
	double *score;           /* per slot */
	int *heap;               /* slots, least (score, slot) first */
	int *pos;                /* per slot: its index in heap */
	uint32_t *hash;          /* slot + 1, 0 empty; linear probing */
	uint32_t mask;
};

/* For at most `cap` (>= 1) entries; -1 when out of memory. */
int rep_top_init(struct rep_top *t, int cap);
void rep_top_free(struct rep_top *t);
/* The slot of `id`, or -1. */
int rep_top_find(const struct rep_top *t, uint64_t id);
/* A slot for `id`, which has none, with `score`: a free one, or the one
 * of least score when `score` is larger (its id forgotten); -1 when the
 * set is full and score does not rank. */
int rep_top_take(struct rep_top *t, uint64_t id, double score);
/* The score of `slot` is now `score`. */
void rep_top_set(struct rep_top *t, int slot, double score);

#endif
