/* The median of a sample, for the benchmark harnesses: one stray slow
 * stretch (another process taking the CPU) moves a mean, not a median. */
#ifndef NOLEAK_BENCH_MEDIAN_H
#define NOLEAK_BENCH_MEDIAN_H

#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Sorts v in place. */
static inline double median(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
