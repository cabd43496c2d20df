/* noleak-report's process-tree section groups escalated kills by the rule
 * of kill_escalate that matched ("reason"). */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "../../lib/run.h"

TestSuite(pgroup_report, .timeout = 30);

static const char *escalated(int child, const char *reason)
{
	static char line[4][300];
	static int next;
	char *l = line[next++ % 4];
	snprintf(l, sizeof line[0],
		 "{\"ts\":\"2026-01-02T03:04:0%d.000001Z\",\"event\":\"kill_escalated\","
		 "\"pid\":5,\"exe\":\"/usr/bin/agent\",\"mode\":\"enforce\","
		 "\"action\":\"escalated\",\"child\":%d,\"signal\":15,"
		 "\"reason\":\"%s\"}\n", child % 10, child, reason);
	return l;
}

Test(pgroup_report, escalations_are_grouped_by_reason)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/events.log", tmpdir());
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fputs(escalated(7, "shell"), f);
	fputs(escalated(8, "system"), f);
	fputs(escalated(9, "shell"), f);
	fputs(escalated(6, "wrapper"), f);
	fclose(f);
	static struct run_result r;
	char *argv[] = { (char *)top("build/noleak-report"), path, NULL };
	cr_assert_eq(run(&r, argv, NULL, 0, 30, NULL), 0);
	const char *tree = strstr(r.out, "Process trees");
	cr_assert(tree, "%s", r.out);
	const char *rows[][2] = { { "2", "reason shell, signal 15" },
				  { "1", "reason system, signal 15" },
				  { "1", "reason wrapper, signal 15" } };
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *at = strstr(tree, rows[i][1]);
		cr_expect(at, "no row for %s in:\n%s", rows[i][1], tree);
		if (!at)
			continue;
		const char *bol = at;
		while (bol > tree && bol[-1] != '\n')
			bol--;
		char count[8];
		cr_expect_eq(sscanf(bol, " %7s", count), 1);
		cr_expect_str_eq(count, rows[i][0], "%s", tree);
	}
}
