/* Shared by the pgroup_* integration tests: finding the processes a test
 * started by a marker in their environment (NOLEAK_TEST_MARK), whatever
 * group or session they ended up in, and reading the fixtures' output. */
#ifndef NOLEAK_TEST_PGROUP_PROCS_H
#define NOLEAK_TEST_PGROUP_PROCS_H

/* A marker unique to this test process and `what`; remembered, so that
 * pg_cleanup() kills whatever still carries it. */
const char *pg_mark(const char *what);
/* "NOLEAK_TEST_MARK=<mark>", for a run() environment list. */
const char *pg_mark_env(const char *mark);

/* Live (not zombie) processes with the marker in their environment. */
int pg_count_marked(const char *mark);
/* Waits up to `seconds` for them to go; returns how many are left. */
/* How long a killed tree may take to be gone: generous, since a loaded
 * machine can delay the exit of a signalled process for a while; the wait
 * ends as soon as the tree is gone. */
#define PG_DIES_WITHIN 10.0
int pg_wait_unmarked(const char *mark, double seconds);
/* /proc/PID/stat of each live process carrying the marker, for messages. */
const char *pg_describe_marked(const char *mark);
/* SIGKILL them, and wait a little for them to go. */
void pg_kill_marked(const char *mark);
/* pg_kill_marked() for every marker this test made: a suite's .fini. */
void pg_cleanup(void);

/* 0 when a fresh socket (SO_REUSEADDR) can bind 127.0.0.1:port, else
 * the errno of bind(). */
int pg_bind_port(int port);

/* The number after `key=` on the first line that starts with `line`
 * ("" for any line); -1 when absent. */
long pg_field(const char *text, const char *line, const char *key);
/* The text after `key=` up to a space or newline, on such a line
 * (static buffer; "" when absent). */
const char *pg_word(const char *text, const char *line, const char *key);

#endif
