/* noleak-report's --top set (tools/report/topset.c): the N entries of
 * largest score among many ids, found by id and evicted least first, as
 * the scan it replaced found them: the least score, and among equal
 * scores the lowest slot.  Checked against that scan on random input. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdlib.h>

/* Compiled in whole: the unit tests link none of noleak-report. */
#include "tools/report/topset.c"

Test(topset, fills_slots_in_order_then_finds_each_id)
{
	struct rep_top t;
	cr_assert_eq(rep_top_init(&t, 3), 0);
	cr_expect_eq(rep_top_take(&t, 10, 5), 0);
	cr_expect_eq(rep_top_take(&t, 11, 1), 1);
	cr_expect_eq(rep_top_take(&t, 12, 3), 2);
	cr_expect_eq(t.n, 3);
	cr_expect_eq(rep_top_find(&t, 10), 0);
	cr_expect_eq(rep_top_find(&t, 11), 1);
	cr_expect_eq(rep_top_find(&t, 12), 2);
	cr_expect_eq(rep_top_find(&t, 13), -1);
	rep_top_free(&t);
}

Test(topset, evicts_the_smallest_and_only_for_a_larger_score)
{
	struct rep_top t;
	cr_assert_eq(rep_top_init(&t, 3), 0);
	rep_top_take(&t, 10, 5);
	rep_top_take(&t, 11, 1);
	rep_top_take(&t, 12, 3);
	/* not larger than the least (1): no slot */
	cr_expect_eq(rep_top_take(&t, 13, 1), -1);
	cr_expect_eq(rep_top_take(&t, 13, 0.5), -1);
	/* larger: the slot of the least, whose id is forgotten */
	cr_expect_eq(rep_top_take(&t, 13, 3.5), 1);
	cr_expect_eq(rep_top_find(&t, 11), -1);
	cr_expect_eq(rep_top_find(&t, 13), 1);
	/* now 3 (slot 2) is the least */
	cr_expect_eq(rep_top_take(&t, 14, 4), 2);
	cr_expect_eq(rep_top_find(&t, 12), -1);
	/* a raised score moves its entry: 13 (3.5) to 9, so 14 (4) is least */
	rep_top_set(&t, 1, 9);
	cr_expect_eq(rep_top_take(&t, 15, 4.5), 2);
	cr_expect_eq(rep_top_find(&t, 14), -1);
	cr_expect_eq(rep_top_find(&t, 13), 1);
	cr_expect_eq(rep_top_find(&t, 10), 0);
	rep_top_free(&t);
}

Test(topset, ties_evict_the_lowest_slot_first)
{
	struct rep_top t;
	cr_assert_eq(rep_top_init(&t, 4), 0);
	rep_top_take(&t, 1, 7);
	rep_top_take(&t, 2, 2);
	rep_top_take(&t, 3, 7);
	rep_top_take(&t, 4, 2);
	cr_expect_eq(rep_top_take(&t, 5, 3), 1);   /* 2 in slots 1 and 3 */
	cr_expect_eq(rep_top_take(&t, 6, 3), 3);
	cr_expect_eq(rep_top_take(&t, 7, 8), 1);   /* 3 in slots 1 and 3 */
	cr_expect_eq(rep_top_take(&t, 8, 8), 3);
	cr_expect_eq(rep_top_take(&t, 9, 7.5), 0); /* 7 in slots 0 and 2 */
	cr_expect_eq(rep_top_take(&t, 10, 7.5), 2);
	rep_top_free(&t);
}

/* The scan it replaced, on the same operations: take, find, raise. */
struct scan {
	uint64_t id[64];
	double score[64];
	int n, cap;
};

static int scan_find(const struct scan *s, uint64_t id)
{
	for (int i = 0; i < s->n; i++)
		if (s->id[i] == id)
			return i;
	return -1;
}

static int scan_take(struct scan *s, uint64_t id, double score)
{
	int min = -1;
	for (int i = 0; i < s->n; i++)
		if (min < 0 || s->score[i] < s->score[min])
			min = i;
	int slot = s->n < s->cap ? s->n++ : min >= 0 && score > s->score[min] ? min : -1;
	if (slot >= 0) {
		s->id[slot] = id;
		s->score[slot] = score;
	}
	return slot;
}

Test(topset, agrees_with_a_scan_on_random_input)
{
	srand(4242);
	for (int round = 0; round < 200; round++) {
		struct scan s = { .cap = 1 + round % 40 };
		struct rep_top t;
		cr_assert_eq(rep_top_init(&t, s.cap), 0);
		for (int i = 0; i < 3000; i++) {
			/* few ids, few scores: ties and hash collisions */
			uint64_t id = (uint64_t)(rand() % 120) << (round % 3 * 20);
			double score = rand() % 8;
			int a = scan_find(&s, id), b = rep_top_find(&t, id);
			cr_assert_eq(a, b, "round %d step %d: find %d, scan %d", round, i, b, a);
			if (a < 0) {
				a = scan_take(&s, id, score);
				b = rep_top_take(&t, id, score);
				cr_assert_eq(a, b, "round %d step %d: take %d, scan %d",
					     round, i, b, a);
			} else if (score > s.score[a]) {
				s.score[a] = score;
				rep_top_set(&t, b, score);
			}
		}
		for (int i = 0; i < s.n; i++)
			cr_assert_eq(rep_top_find(&t, s.id[i]), i);
		rep_top_free(&t);
	}
}
