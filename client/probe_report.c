/*
 * probe_report.c — upcase probe's reports: the catalogue (--list), a text
 * line per case as it ends, or one JSON object (schema "upcase-probe/1",
 * upcase(1)), and a JUnit XML file for CI. Only what was measured is
 * printed.
 */
#include <stdio.h>
#include <time.h>

#include "net.h"
#include "probe_int.h"

/* The overall result: info and unsupported cases do not lower a pass. */
static const char *
overall_name(enum verdict v)
{
	return verdict_names[v == V_INFO || v == V_UNSUPPORTED ? V_PASS : v];
}

static void
json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void
xml_text(FILE *out, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n')
				fputc(*s, out);
		}
	}
}

static void
worst_text(double worst, char *buf, size_t len)
{
	unsigned w = (unsigned)(worst + 0.999);

	snprintf(buf, len, "%um%02us", w / 60, w % 60);
}

void
report_start(const struct probe *p, unsigned ncases, double worst)
{
	char w[32];

	worst_text(worst, w, sizeof(w));
	if (p->json) {
		printf("{\"schema\": \"upcase-probe/1\", \"version\": \"%s\", "
		    "\"address\": ", VERSION);
		json_string(stdout, p->name);
		printf(", \"repeat\": %u, \"max_wait_ms\": %llu, \"idle_ms\": "
		    "%llu, \"timeout_ms\": %.0f, \"worst_case_s\": %.1f, "
		    "\"server_reports\": %s, \"cases\": [", p->repeat,
		    (unsigned long long)p->max_wait_ms,
		    (unsigned long long)p->idle_ms, p->step * 1000, worst,
		    !p->reports ? "false" : p->reports_direct ? "\"direct\"" :
		    "true");
	} else {
		printf("upcase probe %s: %u case%s, %u run%s each, at most %s\n",
		    p->name, ncases, ncases == 1 ? "" : "s", p->repeat,
		    p->repeat == 1 ? "" : "s", w);
		if (!p->reports)
			printf("note: no report of what the probe listener saw "
			    "came back%s: judged from the client alone\n",
			    p->direct_name != NULL ? " (through the path, or "
			    "straight at --direct)" : "");
		else if (p->reports_direct)
			printf("note: the path carried no report of what the "
			    "probe listener saw: read straight at --direct\n");
		if (p->max_wait_lowered)
			printf("note: HC3 waits %.1f s at most, under the probe "
			    "listener's drain_timeout (%.1f s)\n",
			    (double)p->max_wait_ms / 1000,
			    (double)p->drain_timeout_ms / 1000);
	}
	fflush(stdout);
}

/* A time from a report, or null. */
static void
json_ms(const char *key, double ms)
{
	if (ms < 0)
		printf(", \"%s\": null", key);
	else
		printf(", \"%s\": %.1f", key, ms);
}

/* What the daemon saw of t's connection, or null. */
static void
json_server(const struct trial_seen *s, const struct trial *t)
{
	if (!s->found) {
		printf("null");
		return;
	}
	printf("{\"received\": %llu, \"digest_ok\": %s, \"sent\": %llu, "
	    "\"state\": \"%s\"", (unsigned long long)s->received,
	    s->received == t->sent && s->digest == t->digest ? "true" :
	    "false", (unsigned long long)s->sent, s->state);
	json_ms("fin_ms", s->eof_ms);
	json_ms("end_ms", s->end_ms);
	printf(", \"source\": ");
	json_string(stdout, s->source);
	printf("}");
}

static void
json_case(const struct probe_case *c, const struct result *r, bool first)
{
	const struct trial *t = &r->evidence;

	printf("%s\n    {\"id\": \"%s\", \"name\": \"%s\", \"family\": \"%s\", "
	    "\"direction\": \"%s\", \"spec\": \"%s\", \"verdict\": \"%s\", "
	    "\"data\": \"%s\", \"close\": \"%s\", \"runs\": %u, "
	    "\"seconds\": %.3f, \"figures\": {", first ? "" : ",", c->id,
	    c->name, c->family, c->direction, c->spec,
	    verdict_names[r->verdict], verdict_names[r->data],
	    verdict_names[r->close], r->runs, r->seconds);
	if (r->figure_name != NULL)
		printf("\"%s\": %.3f", r->figure_name, r->figure_ms);
	if (r->figure2_name != NULL)
		printf("%s\"%s\": %.3f", r->figure_name != NULL ? ", " : "",
		    r->figure2_name, r->figure2_ms);
	printf("}, \"control\": ");
	if (r->control == V_COUNT)
		printf("null");
	else
		printf("\"%s\"", verdict_names[r->control]);
	printf(", \"evidence\": ");
	if (r->have_evidence) {
		printf("{\"sent\": %zu, \"received\": %zu, \"wrong_at\": ",
		    t->sent, t->received);
		if (t->wrong_at == SIZE_MAX)
			printf("null");
		else
			printf("%zu", t->wrong_at);
		printf(", \"end\": \"%s\", \"end_ms\": %.3f, \"fin_sent_ms\": ",
		    t->stalled ? "stall" : (const char *[]){ "eof", "reset",
		    "timeout", "refused", "closed" }[t->end], t->t_end * 1000);
		if (t->t_shut > 0)
			printf("%.3f", t->t_shut * 1000);
		else
			printf("null");
		printf(", \"last_byte_ms\": ");
		if (t->received > 0)
			printf("%.3f", t->t_last * 1000);
		else
			printf("null");
		printf(", \"server\": ");
		json_server(&t->srv, t);
		printf("}");
	} else {
		printf("null");
	}
	printf(", \"pattern\": ");
	if (r->pattern == PATTERN_NONE)
		printf("null");
	else
		printf("\"%s\"", pattern_names[r->pattern]);
	printf(", \"detail\": ");
	json_string(stdout, r->detail);
	if (r->verdict == V_FAIL && r->expected[0] != '\0') {
		printf(", \"expected\": ");
		json_string(stdout, r->expected);
	}
	printf("}");
}

void
report_case(const struct probe *p, const struct probe_case *c,
    const struct result *r)
{
	static bool first = true;

	if (p->json) {
		json_case(c, r, first);
		first = false;
	} else {
		printf("%-4s %-25s %-12s ", c->id, c->name,
		    verdict_names[r->verdict]);
		if (r->data != r->close && r->close != V_INFO &&
		    r->verdict != V_INCONCLUSIVE)
			printf("(data %s, close %s) ", verdict_names[r->data],
			    verdict_names[r->close]);
		printf("%s\n", r->detail);
		if (r->verdict == V_FAIL && r->expected[0] != '\0')
			printf("     expected: %s\n", r->expected);
		if (r->pattern != PATTERN_NONE && (r->verdict == V_FAIL ||
		    r->verdict == V_NON_STRICT))
			printf("     pattern: %s (upcase(1), PATTERNS, names "
			    "the setting that fixes it)\n",
			    pattern_names[r->pattern]);
	}
	fflush(stdout);
}

void
report_end(const struct probe *p, const unsigned *counts,
    enum verdict overall)
{
	double elapsed = net_now() - p->started;
	const char *sep = "";

	if (p->json) {
		printf("\n  ], \"elapsed_s\": %.1f, \"counts\": {", elapsed);
		for (int v = 0; v < V_COUNT; v++) {
			printf("%s\"%s\": %u", sep, verdict_names[v], counts[v]);
			sep = ", ";
		}
		printf("}, \"result\": \"%s\"}\n", overall_name(overall));
		return;
	}
	printf("done in %.1f s:", elapsed);
	for (int v = 0; v < V_COUNT; v++)
		if (counts[v] > 0) {
			printf("%s %u %s", sep, counts[v], verdict_names[v]);
			sep = ",";
		}
	printf("; result %s\n", overall_name(overall));
}

int
report_junit(const struct probe *p, const struct probe_case *const *c,
    const struct result *r, unsigned n, FILE *out)
{
	unsigned failures = 0, skipped = 0;
	char stamp[32];
	time_t now = time(NULL);

	for (unsigned i = 0; i < n; i++) {
		failures += r[i].verdict >= V_INCONCLUSIVE;
		skipped += r[i].verdict == V_UNSUPPORTED;
	}
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", gmtime(&now));
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites name=\"upcase probe\" tests=\"%u\" failures=\"%u\" "
	    "errors=\"0\" skipped=\"%u\" time=\"%.3f\">\n"
	    "  <testsuite name=\"upcase probe ", n, failures, skipped,
	    net_now() - p->started);
	xml_text(out, p->name);
	fprintf(out, "\" tests=\"%u\" failures=\"%u\" errors=\"0\" "
	    "skipped=\"%u\" time=\"%.3f\" timestamp=\"%s\">\n", n, failures,
	    skipped, net_now() - p->started, stamp);
	for (unsigned i = 0; i < n; i++) {
		fprintf(out, "    <testcase classname=\"upcase.probe.%s\" "
		    "name=\"%s %s\" time=\"%.3f\">\n", c[i]->family, c[i]->id,
		    c[i]->name, r[i].seconds);
		if (r[i].verdict >= V_INCONCLUSIVE) {
			fprintf(out, "      <failure type=\"%s\" message=\"",
			    verdict_names[r[i].verdict]);
			xml_text(out, r[i].detail);
			fputs("\">expected: ", out);
			xml_text(out, r[i].expected[0] != '\0' ?
			    r[i].expected : c[i]->requirement);
			fputs("\nseen: ", out);
			xml_text(out, r[i].detail);
			fputs("</failure>\n", out);
		} else if (r[i].verdict == V_UNSUPPORTED) {
			fputs("      <skipped message=\"", out);
			xml_text(out, r[i].detail);
			fputs("\"/>\n", out);
		}
		fprintf(out, "      <system-out>%s: ",
		    verdict_names[r[i].verdict]);
		xml_text(out, r[i].detail);
		fputs("</system-out>\n    </testcase>\n", out);
	}
	fputs("  </testsuite>\n</testsuites>\n", out);
	return fflush(out) == 0 && !ferror(out) ? 0 : -1;
}

void
probe_list(FILE *out)
{
	for (size_t i = 0; i < probe_ncases; i++) {
		const struct probe_case *c = &probe_cases[i];

		fprintf(out, "%-4s %-25s %-11s %-17s %s\n     %s\n", c->id,
		    c->name, c->family, c->direction, c->spec,
		    c->requirement);
	}
}
