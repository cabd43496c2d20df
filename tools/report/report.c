/* noleak-report: what leaks, where, how often, and what hangs, from
 * libnoleak's event logs.  This file holds main() and the options only;
 * the work is in input.c, agg.c and print.c. */
#include "report.h"
#include "common/toolout.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
"usage: noleak-report [OPTIONS] [LOG|DIR|-]...\n"
"    noleak-report --help | --version\n"
"\n"
"Summarises libnoleak event logs (JSON Lines): leaked fds by program and\n"
"creation site, blocked reads and their culprits, socket timeouts, process\n"
"tree events, configuration errors, and audit totals.  Each LOG is a file,\n"
"'-' for stdin, or a directory whose regular files are all read (gzip ones\n"
"too; other compressions are skipped).  Without LOG, stdin is read.\n"
"Journal export (journalctl -o json) is read like a log.\n"
"\n"
"Options:\n"
"    --journal          Read noleak's entries from the systemd journal\n"
"                       (journalctl -o json SYSLOG_IDENTIFIER=noleak).\n"
"    --json             One JSON document instead of text.\n"
"    --since TIME       Only events at or after TIME: RFC 3339\n"
"                       (2026-11-29T06:00:00Z), a date (2026-11-29), or an\n"
"                       age: 90s, 30m, 2h, 7d, 2w (now minus that).\n"
"    --until TIME       Only events at or before TIME (a date: to the end of\n"
"                       that day).\n"
"    --program GLOB     Only events of programs whose path or basename\n"
"                       matches GLOB.\n"
"    --event KIND       Only events of this kind (repeatable): fd_leak,\n"
"                       fork_inherit, read_blocked, wait_blocked, ...\n"
"                       (a kind not in the event schema is an error).\n"
"    --top N            Rows per section (default 10, at most 10000).\n"
"    --color WHEN       auto (default: a terminal whose TERM is not dumb,\n"
"                       and NO_COLOR unset), always or never.\n"
"    --help, --version\n"
"\n"
"Exit status: 0 when the kept events show no leaks or hangs, 1 when they\n"
"show any (fd_leak, fork_inherit, read_blocked, wait_blocked, sock_timeout,\n"
"read_timeout, orphans) or a check skipped for lack of memory (nomem), 2\n"
"for a usage error or an unreadable log, 3 when the report could not be\n"
"written (stdout full or closed).\n";

enum { OPT_JSON = 256, OPT_SINCE, OPT_UNTIL, OPT_PROGRAM, OPT_EVENT,
       OPT_TOP, OPT_COLOR, OPT_HELP, OPT_VERSION, OPT_JOURNAL };

static const struct option options[] = {
	{ "journal", no_argument, NULL, OPT_JOURNAL },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "program", required_argument, NULL, OPT_PROGRAM },
	{ "event", required_argument, NULL, OPT_EVENT },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "color", required_argument, NULL, OPT_COLOR },
	{ "colour", required_argument, NULL, OPT_COLOR },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int usage_error(const char *fmt, const char *arg)
{
	fputs("noleak-report: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'noleak-report --help'.\n", stderr);
	return 2;
}

/* The kinds of the event schema (common/events.def). */
static const char *const kinds[] = {
#define NL_EVENT_KIND(name, ID) #name,
#include "common/events.def"
};

static int known_kind(const char *s)
{
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (!strcmp(kinds[i], s))
			return 1;
	return 0;
}

/* A misspelt kind would keep no event at all and exit 0: refused. */
static int unknown_kind(const char *s)
{
	fprintf(stderr, "noleak-report: --event: unknown event kind '%s'; the kinds are:", s);
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		fprintf(stderr, "%s %s", i ? "," : "", kinds[i]);
	fputs("\nTry 'noleak-report --help'.\n", stderr);
	return 2;
}

static int kept_already(const struct rep_filter *flt, const char *s)
{
	for (int i = 0; i < flt->n_events; i++)
		if (!strcmp(flt->events[i], s))
			return 1;
	return 0;
}

/* An age ("2h") or a time ("2026-11-29T06:00:00Z", "2026-11-29").  A date
 * is the whole day: its first moment for --since, its last for --until
 * (`until`), so that --since D --until D keeps that day. */
static int parse_when(const char *s, int64_t *out, int until)
{
	char *end;
	size_t n = strlen(s);
	if (n == 10 && s[4] == '-' && s[7] == '-') {
		char full[40];
		snprintf(full, sizeof full, "%sT%s", s,
			 until ? "23:59:59.999999Z" : "00:00:00Z");
		*out = rep_parse_time(full, strlen(full));
		return *out < 0 ? -1 : 0;
	}
	if (n >= 20) {
		*out = rep_parse_time(s, n);
		return *out < 0 ? -1 : 0;
	}
	long long v = strtoll(s, &end, 10);
	if (end == s || v < 0 || end[0] == '\0' || end[1] != '\0')
		return -1;
	long long unit;
	switch (*end) {
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	case 'w': unit = 7 * 86400; break;
	default: return -1;
	}
	if (v > LLONG_MAX / unit / 1000000)
		return -1;
	*out = (int64_t)time(NULL) * 1000000 - v * unit * 1000000;
	return 0;
}

/* Exit status 3: the report, or --help, could not be written (a full
 * disk, a pipe closed while SIGPIPE is ignored).  Said on stderr, and
 * kept apart from 2 (usage, unreadable logs) and from a result, so that
 * a CI step never reads a lost report as a verdict. */
#define EXIT_WRITE 3

static int output_failed(void)
{
	return nl_stdout_failed("noleak-report", "the report");
}

static int want_color(const char *when)
{
	if (!strcmp(when, "always"))
		return 1;
	if (!strcmp(when, "never"))
		return 0;
	const char *term = getenv("TERM"), *no = getenv("NO_COLOR");
	return isatty(1) && term && *term && strcmp(term, "dumb") &&
	       !(no && *no);
}

int main(int argc, char **argv)
{
	struct rep_filter flt = { .since = INT64_MIN, .until = INT64_MAX };
	struct rep_style st = { .top = 10, .width = 100 };
	const char *color = "auto";
	int json = 0, journal = 0, opt;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		char *end;
		switch (opt) {
		case OPT_JOURNAL:
			journal = 1;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_SINCE:
			if (parse_when(optarg, &flt.since, 0))
				return usage_error("--since: not a time or age: '%s'", optarg);
			break;
		case OPT_UNTIL:
			if (parse_when(optarg, &flt.until, 1))
				return usage_error("--until: not a time or age: '%s'", optarg);
			break;
		case OPT_PROGRAM:
			flt.program = optarg;
			break;
		case OPT_EVENT:
			if (!*optarg)
				return usage_error("--event: empty kind%s", "");
			if (!known_kind(optarg))
				return unknown_kind(optarg);
			if (!kept_already(&flt, optarg)) {
				if (flt.n_events == (int)(sizeof flt.events / sizeof flt.events[0]))
					return usage_error("--event: too many kinds%s", "");
				flt.events[flt.n_events++] = optarg;
			}
			break;
		case OPT_TOP: {
			errno = 0;
			long n = strtol(optarg, &end, 10);
			if (end == optarg || *end || errno || n < 1 || n > 10000)
				return usage_error("--top: not a number from 1 to 10000: '%s'", optarg);
			st.top = (int)n;
			break;
		}
		case OPT_COLOR:
			if (strcmp(optarg, "auto") && strcmp(optarg, "always") &&
			    strcmp(optarg, "never"))
				return usage_error("--color: auto, always or never, not '%s'", optarg);
			color = optarg;
			break;
		case OPT_HELP:
			fputs(usage_text, stdout);
			return output_failed() ? EXIT_WRITE : 0;
		case OPT_VERSION:
			printf("noleak-report %s\n", NL_VERSION);
			return output_failed() ? EXIT_WRITE : 0;
		default:
			fputs("Try 'noleak-report --help'.\n", stderr);
			return 2;
		}
	}
	if (flt.since > flt.until)
		return usage_error("--since is after --until%s", "");
	if (optind == argc && !journal && isatty(0))
		return usage_error("no log given (and stdin is a terminal)%s", "");
	st.color = !json && want_color(color);

	struct rep_agg *a = rep_agg_new(&flt, st.top);
	int failed = 0;
	if (journal)
		failed = rep_read_journal(a) < 0;
	else if (optind == argc)
		failed = rep_read_path(a, "-") < 0;
	for (int i = optind; i < argc && !failed; i++)
		failed = rep_read_path(a, argv[i]) < 0;
	if (failed) {
		rep_agg_free(a);
		return 2;
	}
	if (json)
		rep_print_json(a, stdout, &st);
	else
		rep_print_text(a, stdout, &st);
	int rc = rep_agg_problems(a);
	rep_agg_free(a);
	if (output_failed())
		return EXIT_WRITE;
	return rc;
}
