/* /etc/ld.so.preload's text as noleak enable, disable and status read and
 * rewrite it: entries among comments, blanks and colons, $LIB forms, and
 * adding or removing our entry idempotently while every other byte stays.
 * One row per case. */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/noleak/ldpreload.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Debian's layout, and Fedora's with no AT_PLATFORM. */
static const struct ldpreload_env debian = { "/usr/lib/x86_64-linux-gnu", "x86_64" };
static const struct ldpreload_env fedora = { "/usr/lib64", NULL };

#define E "/usr/lib/x86_64-linux-gnu/libnoleak.so"

/* The entries of `text` as ld.so reads them: entries joined by ',', lines
 * by ';'. */
static void entries(const char *text, char *out, size_t cap)
{
	size_t len = strlen(text), n;
	struct ldpreload_line *lines = calloc(len + 1, sizeof *lines);
	cr_assert_not_null(lines);
	n = ldpreload_split(text, len, lines, len + 1);
	out[0] = 0;
	for (size_t i = 0; i < n; i++) {
		size_t pos = 0, tlen, k = 0;
		const char *tok;
		if (i)
			strncat(out, ";", cap - strlen(out) - 1);
		while (ldpreload_next_entry(&lines[i], &pos, &tok, &tlen)) {
			size_t o = strlen(out);
			snprintf(out + o, cap - o, "%s%.*s", k++ ? "," : "", (int)tlen, tok);
		}
	}
	free(lines);
}

Test(ldpreload, entries_among_comments_blanks_and_colons)
{
	static const struct { const char *text, *want; } rows[] = {
		{ "", "" },
		{ "\n", "" },
		{ "/a.so\n", "/a.so" },
		{ "/a.so", "/a.so" },                         /* no final newline */
		{ "/a.so /b.so\n", "/a.so,/b.so" },
		{ "/a.so:/b.so\t/c.so\n", "/a.so,/b.so,/c.so" },
		{ "  \t/a.so  \n", "/a.so" },
		{ "::/a.so::\n", "/a.so" },
		/* ld.so's separators are blank, tab and colon alone: a
		 * carriage return is part of the name */
		{ "/a.so\r\n", "/a.so\r" },
		{ "\v/a.so\f/b.so\n", "\v/a.so\f/b.so" },
		{ "# a comment /x.so\n", "" },
		{ "/a.so # /x.so is commented out\n", "/a.so" },
		{ "/a.so#/x.so\n", "/a.so" },
		{ "# one\n\n/a.so\n  # two\n/b.so /c.so\n", ";;/a.so;;/b.so,/c.so" },
		{ "/usr/$LIB/libnoleak.so\n", "/usr/$LIB/libnoleak.so" },
		{ "/usr/${LIB}/libnoleak.so ${PLATFORM}/x.so\n",
		  "/usr/${LIB}/libnoleak.so,${PLATFORM}/x.so" },
	};
	for (size_t i = 0; i < N(rows); i++) {
		char got[512];
		entries(rows[i].text, got, sizeof got);
		cr_expect_str_eq(got, rows[i].want, "row %zu: \"%s\"", i, rows[i].text);
	}
}

Test(ldpreload, lines_keep_their_comment_apart)
{
	const char *text = "/a.so # note\n";
	struct ldpreload_line l;
	cr_assert_eq(ldpreload_split(text, strlen(text), &l, 1), 1);
	cr_expect_eq(l.len, strlen("/a.so # note"));
	cr_expect_eq(l.content_len, strlen("/a.so "));
}

Test(ldpreload, which_entries_are_ours)
{
	static const struct { const char *entry; int ours; } rows[] = {
		{ "libnoleak.so", 1 },
		{ "/usr/lib/x86_64-linux-gnu/libnoleak.so", 1 },
		{ "/usr/$LIB/libnoleak.so", 1 },
		{ "/usr/local/lib/libnoleak.so", 1 },
		{ "/usr/lib/libnoleak.so\r", 1 },   /* ours, which ld.so cannot load */
		{ "/x/mylibnoleak.so", 0 },
		{ "/x/libnoleak.so.1", 0 },
		{ "/x/libnoleak.so/y.so", 0 },
		{ "/usr/lib/libother.so", 0 },
		{ "", 0 },
	};
	for (size_t i = 0; i < N(rows); i++)
		cr_expect_eq(ldpreload_is_ours(rows[i].entry, strlen(rows[i].entry)),
			     rows[i].ours, "%s", rows[i].entry);
}

Test(ldpreload, characters_an_entry_cannot_hold)
{
	static const struct { const char *path; int safe; } rows[] = {
		{ "/usr/lib/libnoleak.so", 1 },
		{ "/usr/$LIB/libnoleak.so", 1 },
		{ "/my dir/libnoleak.so", 0 },
		{ "/a:b/libnoleak.so", 0 },
		{ "/a#b/libnoleak.so", 0 },
		{ "/a\tb/libnoleak.so", 0 },
		{ "/a\nb/libnoleak.so", 0 },
	};
	for (size_t i = 0; i < N(rows); i++)
		cr_expect_eq(ldpreload_safe_chars(rows[i].path), rows[i].safe,
			     "%s", rows[i].path);
}

Test(ldpreload, lib_token)
{
	cr_expect_str_eq(ldpreload_lib_token("/usr/lib/x86_64-linux-gnu"),
			 "lib/x86_64-linux-gnu");
	cr_expect_str_eq(ldpreload_lib_token("/usr/lib64"), "lib64");
	cr_expect_str_eq(ldpreload_lib_token("/lib64"), "lib64");
	cr_expect_str_eq(ldpreload_lib_token("lib"), "lib");
}

Test(ldpreload, expand_lib_and_platform_forms)
{
	static const struct {
		const struct ldpreload_env *env;
		const char *entry, *want;
	} rows[] = {
		{ &debian, "/usr/$LIB/libnoleak.so", E },
		{ &debian, "/usr/${LIB}/libnoleak.so", E },
		{ &debian, "/$LIB/libnoleak.so", "/lib/x86_64-linux-gnu/libnoleak.so" },
		{ &fedora, "/usr/$LIB/libnoleak.so", "/usr/lib64/libnoleak.so" },
		{ &debian, "/opt/$PLATFORM/x.so", "/opt/x86_64/x.so" },
		{ &debian, "/opt/${PLATFORM}/x.so", "/opt/x86_64/x.so" },
		{ &fedora, "/opt/$PLATFORM/x.so", "/opt//x.so" },
		/* a bare token does not run on into a longer name */
		{ &debian, "/opt/$LIBRARY/x.so", "/opt/$LIBRARY/x.so" },
		{ &debian, "/opt/$LIB_X/x.so", "/opt/$LIB_X/x.so" },
		{ &debian, "/opt/${LIB}RARY/x.so", "/opt/lib/x86_64-linux-gnuRARY/x.so" },
		{ &debian, "/opt/$LIB", "/opt/lib/x86_64-linux-gnu" },
		{ &debian, "/opt/$ORIGIN/x.so", "/opt/$ORIGIN/x.so" },
		/* a bare name is looked for in the system directory */
		{ &debian, "libnoleak.so", E },
		{ &fedora, "libnoleak.so", "/usr/lib64/libnoleak.so" },
		{ &debian, E, E },
	};
	for (size_t i = 0; i < N(rows); i++) {
		char got[PATH_MAX];
		ldpreload_expand(rows[i].entry, strlen(rows[i].entry), rows[i].env,
				 got, sizeof got);
		cr_expect_str_eq(got, rows[i].want, "%s", rows[i].entry);
	}
}

Test(ldpreload, expand_never_overflows)
{
	char got[16];
	const char *entry = "/usr/$LIB/$LIB/libnoleak.so";
	ldpreload_expand(entry, strlen(entry), &debian, got, sizeof got);
	cr_expect_eq(strlen(got), sizeof got - 1);
	cr_expect_eq(strncmp(got, "/usr/lib/x86_64", sizeof got - 1), 0);
}

/* Each entry `add` reported as replaced, joined by ','. */
static void note_replaced(const char *tok, size_t tlen, void *ctx)
{
	char *seen = ctx;
	size_t o = strlen(seen);
	snprintf(seen + o, 256 - o, "%s%.*s", o ? "," : "", (int)tlen, tok);
}

static const char *text_of(const struct ldpreload_edit *e)
{
	return e->text ? e->text : "";
}

Test(ldpreload, add_our_entry)
{
	static const struct {
		const char *before, *after;
		int kept, dropped;
		const char *replaced;
	} rows[] = {
		{ "", E "\n", 0, 0, "" },
		{ "\n", "\n" E "\n", 0, 0, "" },
		{ "/a.so\n", "/a.so\n" E "\n", 0, 0, "" },
		{ "/a.so", "/a.so\n" E "\n", 0, 0, "" },
		/* other entries and comments stay byte for byte */
		{ "# keep me\n\t/a.so::/b.so   #  odd   spacing\r\n\n",
		  "# keep me\n\t/a.so::/b.so   #  odd   spacing\r\n\n" E "\n", 0, 0, "" },
		/* already there, in any spelling that means the same file */
		{ E "\n", E "\n", 1, 0, "" },
		{ "/a.so " E " /b.so # mine\n", "/a.so " E " /b.so # mine\n", 1, 0, "" },
		{ "/usr/$LIB/libnoleak.so\n", "/usr/$LIB/libnoleak.so\n", 1, 0, "" },
		{ "/usr/${LIB}/libnoleak.so\n", "/usr/${LIB}/libnoleak.so\n", 1, 0, "" },
		{ "libnoleak.so\n", "libnoleak.so\n", 1, 0, "" },
		/* a repeat is dropped quietly */
		{ E "\n" E "\n", E "\n", 1, 1, "" },
		{ E ":" E "\n", E "\n", 1, 1, "" },
		/* another copy is replaced; its line goes when nothing stays */
		{ "/usr/local/lib/libnoleak.so\n", E "\n", 0, 1,
		  "/usr/local/lib/libnoleak.so" },
		{ "/a.so /usr/local/lib/libnoleak.so:/b.so # ours was here\n",
		  "/a.so /b.so # ours was here\n" E "\n", 0, 1,
		  "/usr/local/lib/libnoleak.so" },
		{ "/old/libnoleak.so # c\n", "# c\n" E "\n", 0, 1, "/old/libnoleak.so" },
		{ "/old/libnoleak.so\n" E "\n", E "\n", 1, 1, "/old/libnoleak.so" },
		{ "/usr/lib/libnoleak.so /opt/libnoleak.so\n/a.so\n", "/a.so\n" E "\n",
		  0, 2, "/usr/lib/libnoleak.so,/opt/libnoleak.so" },
		/* not ours */
		{ "/x/mylibnoleak.so\n", "/x/mylibnoleak.so\n" E "\n", 0, 0, "" },
	};
	for (size_t i = 0; i < N(rows); i++) {
		struct ldpreload_edit e;
		char replaced[256] = "";
		const char *b = rows[i].before;
		cr_assert_eq(ldpreload_add(b, strlen(b), E, &debian, note_replaced,
					   replaced, &e), 0);
		cr_expect_str_eq(text_of(&e), rows[i].after, "row %zu", i);
		cr_expect_eq(e.len, strlen(rows[i].after), "row %zu", i);
		cr_expect_eq(e.kept, rows[i].kept, "row %zu: kept", i);
		cr_expect_eq(e.dropped, rows[i].dropped, "row %zu: dropped", i);
		cr_expect_str_eq(replaced, rows[i].replaced, "row %zu", i);
		/* Once more: nothing changes. */
		struct ldpreload_edit again;
		cr_assert_eq(ldpreload_add(e.text, e.len, E, &debian, note_replaced,
					   replaced, &again), 0);
		cr_expect_str_eq(text_of(&again), text_of(&e), "row %zu: again", i);
		cr_expect(again.kept && !again.dropped, "row %zu: again", i);
		free(e.text);
		free(again.text);
	}
}

#define L "/usr/$LIB/libnoleak.so"

/* The $LIB entry (builds for several ABIs installed): only the same text
 * is the same entry; this ABI's plain path, or another spelling, is
 * replaced by it. */
Test(ldpreload, add_lib_entry)
{
	static const struct {
		const char *before, *after;
		int kept, dropped;
		const char *replaced;
	} rows[] = {
		{ "", L "\n", 0, 0, "" },
		{ L "\n", L "\n", 1, 0, "" },
		{ "/a.so " L " # c\n", "/a.so " L " # c\n", 1, 0, "" },
		{ L "\n" L "\n", L "\n", 1, 1, "" },
		{ E "\n", L "\n", 0, 1, E },
		{ "/a.so " E " # c\n", "/a.so # c\n" L "\n", 0, 1, E },
		{ "/usr/${LIB}/libnoleak.so\n", L "\n", 0, 1, "/usr/${LIB}/libnoleak.so" },
		{ "/usr/local/lib/libnoleak.so\n" L "\n", L "\n", 1, 1,
		  "/usr/local/lib/libnoleak.so" },
	};
	for (size_t i = 0; i < N(rows); i++) {
		struct ldpreload_edit e, again;
		char replaced[256] = "";
		const char *b = rows[i].before;
		cr_assert_eq(ldpreload_add(b, strlen(b), L, &debian, note_replaced,
					   replaced, &e), 0);
		cr_expect_str_eq(text_of(&e), rows[i].after, "row %zu", i);
		cr_expect_eq(e.kept, rows[i].kept, "row %zu: kept", i);
		cr_expect_eq(e.dropped, rows[i].dropped, "row %zu: dropped", i);
		cr_expect_str_eq(replaced, rows[i].replaced, "row %zu", i);
		cr_assert_eq(ldpreload_add(e.text, e.len, L, &debian, NULL, NULL,
					   &again), 0);
		cr_expect_str_eq(text_of(&again), text_of(&e), "row %zu: again", i);
		cr_expect(again.kept && !again.dropped, "row %zu: again", i);
		free(e.text);
		free(again.text);
	}
}

Test(ldpreload, add_without_a_listener)
{
	struct ldpreload_edit e;
	const char *b = "/old/libnoleak.so\n";
	cr_assert_eq(ldpreload_add(b, strlen(b), E, &debian, NULL, NULL, &e), 0);
	cr_expect_str_eq(text_of(&e), E "\n");
	free(e.text);
}

Test(ldpreload, remove_our_entries)
{
	static const struct {
		const char *before, *after;
		int dropped, blank;
	} rows[] = {
		{ "", "", 0, 1 },
		/* nothing of ours: byte for byte, final newline or not */
		{ "/a.so\n", "/a.so\n", 0, 0 },
		{ "/a.so", "/a.so\n", 0, 0 },
		{ "  # comment\n\n\t/a.so::/b.so  # x\r\n", "  # comment\n\n\t/a.so::/b.so  # x\r\n", 0, 0 },
		{ "/x/mylibnoleak.so\n", "/x/mylibnoleak.so\n", 0, 0 },
		/* ours goes, with its line when nothing else was on it */
		{ E "\n", "", 1, 1 },
		{ E "\n\n", "\n", 1, 1 },
		{ "/a.so " E ":/b.so\n", "/a.so /b.so\n", 1, 0 },
		{ E " # enabled by noleak\n", "# enabled by noleak\n", 1, 0 },
		{ "# head\n" E "\n\n/usr/$LIB/libnoleak.so libnoleak.so\n/c.so\n",
		  "# head\n\n/c.so\n", 3, 0 },
		{ "/c.so\n/usr/local/lib/libnoleak.so\n", "/c.so\n", 1, 0 },
	};
	for (size_t i = 0; i < N(rows); i++) {
		struct ldpreload_edit e;
		const char *b = rows[i].before;
		cr_assert_eq(ldpreload_remove(b, strlen(b), &e), 0);
		cr_expect_str_eq(text_of(&e), rows[i].after, "row %zu", i);
		cr_expect_eq(e.len, strlen(rows[i].after), "row %zu", i);
		cr_expect_eq(e.dropped, rows[i].dropped, "row %zu: dropped", i);
		cr_expect_eq(ldpreload_is_blank(e.text, e.len), rows[i].blank,
			     "row %zu: blank", i);
		/* Once more: nothing changes. */
		struct ldpreload_edit again;
		cr_assert_eq(ldpreload_remove(e.text, e.len, &again), 0);
		cr_expect_str_eq(text_of(&again), text_of(&e), "row %zu: again", i);
		cr_expect_eq(again.dropped, 0, "row %zu: again", i);
		free(e.text);
		free(again.text);
	}
}

/* enable then disable gives back a file that had no entry of ours. */
Test(ldpreload, add_then_remove_restores_the_file)
{
	static const char *const rows[] = {
		"",
		"/a.so\n",
		"# keep me\n\t/a.so::/b.so   #  odd   spacing\r\n\n",
		"\n\n# only comments\n",
	};
	for (size_t i = 0; i < N(rows); i++) {
		struct ldpreload_edit added, removed;
		cr_assert_eq(ldpreload_add(rows[i], strlen(rows[i]), E, &debian,
					   NULL, NULL, &added), 0);
		cr_assert_eq(ldpreload_remove(added.text, added.len, &removed), 0);
		cr_expect_str_eq(text_of(&removed), rows[i], "row %zu", i);
		free(added.text);
		free(removed.text);
	}
}

Test(ldpreload, blank)
{
	cr_expect(ldpreload_is_blank(NULL, 0));
	cr_expect(ldpreload_is_blank(" \t\r\n\n", 5));
	cr_expect(!ldpreload_is_blank("\n#\n", 3));
	cr_expect(!ldpreload_is_blank("\n/a.so\n", 7));
}
