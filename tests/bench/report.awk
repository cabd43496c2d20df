# The benchmark's table and build/bench.json, from the samples, the row
# descriptions and the notes written by run.sh (in that order on the command
# line).  Plain POSIX awk: no gawk extensions, no python.
#
# Variables: json (output path), quick (0/1), date, host, cpus.

BEGIN { FS = "\t" }

FILENAME == ARGV[1] {
	k = $2 SUBSEP $3
	val[k, ++cnt[k]] = $4 + 0
	next
}
FILENAME == ARGV[2] {
	nr++
	r_fig[nr] = $1; r_label[nr] = $2; r_var[nr] = $3; r_text[nr] = $4
	r_unit[nr] = $5; r_base[nr] = $6; r_kind[nr] = $7; r_arg[nr] = $8
	r_ref[nr] = $9; r_goal[nr] = $10; r_status[nr] = $11
	next
}
FILENAME == ARGV[3] { notes[++nn] = $0 }

# Statistics of one (figure, variant): sets N, MED, MIN, MAX, LIST.
function stats(fig, var,   k, i, j, n, t, a) {
	k = fig SUBSEP var
	n = cnt[k] + 0
	N = n; LIST = ""
	for (i = 1; i <= n; i++) {
		a[i] = val[k, i]
		LIST = LIST (i > 1 ? ", " : "") num(a[i])
	}
	if (n == 0) return 0
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
		a[j + 1] = t
	}
	MIN = a[1]; MAX = a[n]
	MED = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	return 1
}

function median_of(fig, var) { return stats(fig, var) ? MED : "" }

function median_arr(a, n,   i, j, t) {
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
		a[j + 1] = t
	}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}

# Samples of two variants of one group were taken in the same rounds, i-th
# with i-th, seconds apart: comparing them pair by pair cancels a drift of
# the machine that spans several rounds.  Variants measured apart (their
# counts differ) fall back to the medians.

# The ratio var/base: the median of the per-round ratios.
function ratio_of(fig, var, base,   kv, kb, n, i, a, bm) {
	kv = fig SUBSEP var; kb = fig SUBSEP base
	n = cnt[kv] + 0
	if (n > 0 && n == cnt[kb] + 0) {
		for (i = 1; i <= n; i++) {
			if (val[kb, i] <= 0) return ""
			a[i] = val[kv, i] / val[kb, i]
		}
		return median_arr(a, n)
	}
	bm = median_of(fig, base)
	return (n > 0 && bm != "" && bm > 0) ? median_of(fig, var) / bm : ""
}

# What var adds over base: the median of the per-round differences.
function added_of(fig, var, base,   kv, kb, n, i, a, bm) {
	kv = fig SUBSEP var; kb = fig SUBSEP base
	n = cnt[kv] + 0
	if (n > 0 && n == cnt[kb] + 0) {
		for (i = 1; i <= n; i++) a[i] = val[kv, i] - val[kb, i]
		return median_arr(a, n)
	}
	bm = median_of(fig, base)
	return (n > 0 && bm != "") ? median_of(fig, var) - bm : ""
}

# Three significant figures, never an exponent.
function fmt(x) {
	if (x >= 100 || x <= -100) return sprintf("%.0f", x)
	if (x >= 10 || x <= -10) return sprintf("%.1f", x)
	return sprintf("%.2f", x)
}
function num(x) { return sprintf("%.6g", x) }
function jstr(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	return "\"" s "\""
}
function jnum(x) { return x == "" ? "null" : num(x) }

# The verdict on row i: sets STATUS (text), MET (1, 0 or "").
function judge(i, med, bm, ratio,   refadded, added, frac) {
	MET = ""
	if (r_status[i] != "") { STATUS = r_status[i]; return }
	if (med == "") { STATUS = "no data"; return }
	if (r_kind[i] == "") { STATUS = ""; return }
	if (r_kind[i] == "value_le") {
		MET = med <= r_arg[i] + 0
	} else if (r_kind[i] == "ratio_le") {
		if (ratio == "") { STATUS = "n/a (no " r_base[i] ")"; return }
		MET = ratio <= r_arg[i] + 0
	} else if (r_kind[i] == "added_le" || r_kind[i] == "added_of") {
		if (bm == "" || median_of(r_fig[i], r_ref[i]) == "") {
			STATUS = "n/a (no " (bm == "" ? r_base[i] : r_ref[i]) ")"
			return
		}
		refadded = added_of(r_fig[i], r_ref[i], r_base[i])
		if (refadded <= 0) { STATUS = "n/a (" r_ref[i] " adds nothing)"; return }
		added = added_of(r_fig[i], r_var[i], r_base[i])
		frac = added / refadded
		if (r_kind[i] == "added_of") {   # a floor: its share, no verdict
			STATUS = frac > 0 ? sprintf("added 1/%.0f of %s's", 1 / frac, r_ref[i]) : "~0 added"
			return
		}
		MET = frac <= r_arg[i] + 0
		STATUS = (MET ? "MET" : "MISSED") (frac > 0 ? sprintf(" (1/%.0f)", 1 / frac) : " (~0 added)")
		return
	}
	STATUS = MET ? "MET" : "MISSED"
}

function cell(i, c, s) {
	C[i, c] = s
	if (length(s) > W[c]) W[c] = length(s)
}

END {
	head = "figure|variant|median|min-max|ratio|goal|status"
	ncol = split(head, H, "|")
	for (c = 1; c <= ncol; c++) cell(0, c, toupper(H[c]))

	for (i = 1; i <= nr; i++) {
		have = stats(r_fig[i], r_var[i])
		med = have ? MED : ""
		R_N[i] = N; R_LIST[i] = LIST; R_MED[i] = med
		R_MIN[i] = have ? MIN : ""; R_MAX[i] = have ? MAX : ""
		bm = ""
		if (r_base[i] != "" && r_base[i] != "-" && r_base[i] != r_var[i])
			bm = median_of(r_fig[i], r_base[i])
		R_RATIO[i] = (med != "" && bm != "") ? ratio_of(r_fig[i], r_var[i], r_base[i]) : ""
		judge(i, med, bm, R_RATIO[i])
		R_STATUS[i] = STATUS; R_MET[i] = MET
		if (MET == 0 && MET != "") missed[++nm] = r_label[i] ": " r_text[i]

		cell(i, 1, r_label[i] == r_label[i - 1] ? "" : r_label[i])
		cell(i, 2, r_text[i])
		cell(i, 3, med == "" ? "-" : fmt(med) " " r_unit[i])
		cell(i, 4, med == "" ? "-" : fmt(R_MIN[i]) "-" fmt(R_MAX[i]))
		cell(i, 5, R_RATIO[i] == "" ? "" : sprintf("%.2fx %s", R_RATIO[i], r_base[i]))
		cell(i, 6, r_goal[i] == "" ? "" : r_goal[i])
		cell(i, 7, R_STATUS[i])
	}

	for (i = 0; i <= nr; i++) {
		if (i > 0 && C[i, 1] != "") print ""
		line = ""
		for (c = 1; c <= ncol; c++)
			line = line sprintf(c < ncol ? "%-" W[c] "s  " : "%s", C[i, c])
		sub(/ +$/, "", line)
		print line
		if (i == 0) {
			rule = ""
			for (c = 1; c <= ncol; c++) rule = rule sprintf("%" W[c] "s  ", "")
			gsub(/ /, "-", rule)
			print substr(rule, 1, length(rule) - 2)
		}
	}
	print ""
	if (nm == 0) print "Goals: all measured goals MET."
	else {
		print "Goals MISSED (" nm "):"
		for (i = 1; i <= nm; i++) print "  - " missed[i]
	}
	print ""
	for (i = 1; i <= nn; i++) print "note: " notes[i]
	print "JSON: " json

	printf "{\n  \"generated\": %s,\n  \"quick\": %s,\n", jstr(date), quick ? "true" : "false" >json
	printf "  \"host\": {\"uname\": %s, \"cpus\": %d},\n", jstr(host), cpus >json
	printf "  \"rows\": [\n" >json
	for (i = 1; i <= nr; i++) {
		printf "    {\"figure\": %s, \"figure_label\": %s, \"variant\": %s, \"description\": %s,\n", \
			jstr(r_fig[i]), jstr(r_label[i]), jstr(r_var[i]), jstr(r_text[i]) >json
		printf "     \"unit\": %s, \"n\": %d, \"median\": %s, \"min\": %s, \"max\": %s, \"values\": [%s],\n", \
			jstr(r_unit[i]), R_N[i], jnum(R_MED[i]), jnum(R_MIN[i]), jnum(R_MAX[i]), R_LIST[i] >json
		printf "     \"baseline\": %s, \"ratio\": %s, \"goal\": %s, \"goal_kind\": %s, \"goal_value\": %s,", \
			(r_base[i] == "" || r_base[i] == "-") ? "null" : jstr(r_base[i]), jnum(R_RATIO[i]), \
			r_goal[i] == "" ? "null" : jstr(r_goal[i]), r_kind[i] == "" ? "null" : jstr(r_kind[i]), \
			r_arg[i] == "" ? "null" : num(r_arg[i]) >json
		printf " \"reference\": %s,\n     \"status\": %s, \"met\": %s}%s\n", \
			r_ref[i] == "" ? "null" : jstr(r_ref[i]), jstr(R_STATUS[i]), \
			R_MET[i] == "" ? "null" : (R_MET[i] ? "true" : "false"), i < nr ? "," : "" >json
	}
	printf "  ],\n  \"missed\": [" >json
	for (i = 1; i <= nm; i++) printf "%s%s", (i > 1 ? ", " : ""), jstr(missed[i]) >json
	printf "],\n  \"notes\": [" >json
	for (i = 1; i <= nn; i++) printf "%s\n    %s", (i > 1 ? "," : ""), jstr(notes[i]) >json
	printf "\n  ]\n}\n" >json
	close(json)
}
