/* An empty preload: what loading any shared object costs (benchmarks). */
