/* Unit tests of server/metrics.c, the counters and their text exposition
 * (what each hook adds, cumulative buckets, every series present, the
 * format Prometheus parses), and of net_check_loopback(), which keeps the
 * metrics' listener on the loopback. The counters are the process's: each
 * test reads what it adds as a difference, or uses its own operation. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "metrics.h"
#include "net.h"

/* The page as a string (free it). */
static char *
page(void)
{
	struct buf	 b;
	char		*s;

	buf_init(&b);
	metrics_render(&b);
	s = strdup(buf_cstr(&b));
	buf_free(&b);
	return s;
}

/* The value of one series ("name{labels}" as printed); fails if absent. */
static double
value(const char *text, const char *series)
{
	const char	*p = text;
	size_t		 len = strlen(series);

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[len] == ' ')
			return strtod(p + len + 1, NULL);
		p += len;
	}
	fail_msg("no series %s", series);
	return -1;
}

static double
now_value(const char *series)
{
	char	*text = page();
	double	 v = value(text, series);

	free(text);
	return v;
}

static void
test_requests_and_histogram(void **state)
{
	char	*text;
	int	 i;

	(void)state;
	for (i = 0; i < 3; i++)
		metrics_request(OP_STATS, -1, 0.003);
	metrics_request(OP_STATS, E_INVALID, 0.015);
	metrics_request(OP_STATS, E_BUSY, 12.0);
	text = page();
	assert_true(value(text, "ecadmd_requests_total{op=\"stats\","
	    "code=\"ok\"}") == 3);
	assert_true(value(text, "ecadmd_requests_total{op=\"stats\","
	    "code=\"E_INVALID\"}") == 1);
	assert_true(value(text, "ecadmd_requests_total{op=\"stats\","
	    "code=\"E_BUSY\"}") == 1);
	assert_true(value(text, "ecadmd_requests_total{op=\"stats\","
	    "code=\"E_AUTH\"}") == 0);
	/* Cumulative: 3 at 5 ms, 4 at 20 ms, the 12 s one only in +Inf. */
	assert_true(value(text, "ecadmd_request_duration_seconds_bucket"
	    "{op=\"stats\",le=\"0.002\"}") == 0);
	assert_true(value(text, "ecadmd_request_duration_seconds_bucket"
	    "{op=\"stats\",le=\"0.005\"}") == 3);
	assert_true(value(text, "ecadmd_request_duration_seconds_bucket"
	    "{op=\"stats\",le=\"0.01\"}") == 3);
	assert_true(value(text, "ecadmd_request_duration_seconds_bucket"
	    "{op=\"stats\",le=\"0.02\"}") == 4);
	assert_true(value(text, "ecadmd_request_duration_seconds_bucket"
	    "{op=\"stats\",le=\"10\"}") == 4);
	assert_true(value(text, "ecadmd_request_duration_seconds_bucket"
	    "{op=\"stats\",le=\"+Inf\"}") == 5);
	assert_true(value(text, "ecadmd_request_duration_seconds_count"
	    "{op=\"stats\"}") == 5);
	assert_float_equal(value(text, "ecadmd_request_duration_seconds_sum"
	    "{op=\"stats\"}"), 3 * 0.003 + 0.015 + 12.0, 1e-6);
	free(text);
}

static void
test_out_of_range_is_ignored(void **state)
{
	double	before;

	(void)state;
	before = now_value("ecadmd_request_duration_seconds_count"
	    "{op=\"hello\"}");
	metrics_request(OP__COUNT, -1, 0);
	metrics_request(OP_HELLO, E__COUNT, 0);
	metrics_request(OP_HELLO, -2, 0);
	assert_true(now_value("ecadmd_request_duration_seconds_count"
	    "{op=\"hello\"}") == before);
	/* A clock that went back counts as no time at all. */
	metrics_request(OP_HELLO, -1, -1.0);
	assert_true(now_value("ecadmd_request_duration_seconds_bucket"
	    "{op=\"hello\",le=\"0.001\"}") == before + 1);
}

static void
test_gauges(void **state)
{
	char	*text;

	(void)state;
	metrics_connection_opened();
	metrics_connection_opened();
	metrics_connection_closed();
	metrics_connection_refused(METRICS_REFUSED_PER_ADDRESS);
	metrics_queue_depth(7);
	metrics_worker_busy(1);
	metrics_worker_busy(1);
	metrics_worker_busy(-1);
	metrics_db_reconnect(0);
	metrics_db_reconnect(0);
	metrics_db_reconnect(1);
	metrics_queue_wait(0.5);
	text = page();
	assert_true(value(text, "ecadmd_connections_open") == 1);
	assert_true(value(text, "ecadmd_connections_accepted_total") == 2);
	assert_true(value(text, "ecadmd_connections_refused_total"
	    "{reason=\"per_address\"}") == 1);
	assert_true(value(text, "ecadmd_connections_refused_total"
	    "{reason=\"max_connections\"}") == 0);
	assert_true(value(text, "ecadmd_queue_depth") == 7);
	assert_true(value(text, "ecadmd_workers_busy") == 1);
	assert_true(value(text, "ecadmd_db_reconnects_total"
	    "{result=\"failed\"}") == 2);
	assert_true(value(text, "ecadmd_db_reconnects_total"
	    "{result=\"ok\"}") == 1);
	assert_true(value(text, "ecadmd_queue_wait_seconds_bucket"
	    "{le=\"0.2\"}") == 0);
	assert_true(value(text, "ecadmd_queue_wait_seconds_bucket"
	    "{le=\"0.5\"}") == 1);
	assert_true(value(text, "ecadmd_queue_wait_seconds_count") == 1);
	free(text);
}

/* Whether a line is `name{labels} value` or `name value`: a metric name,
 * label="value" pairs, one space, a number. */
static int
sample_line(const char *l, char *name, size_t len)
{
	const char	*p = l, *start;
	char		*end;

	if (!isalpha((unsigned char)*p) && *p != '_' && *p != ':')
		return 0;
	while (isalnum((unsigned char)*p) || *p == '_' || *p == ':')
		p++;
	snprintf(name, len, "%.*s", (int)(p - l), l);
	if (*p == '{') {
		p++;
		while (*p != '}') {
			start = p;
			while (isalnum((unsigned char)*p) || *p == '_')
				p++;
			if (p == start || *p++ != '=' || *p++ != '"')
				return 0;
			while (*p != '"' && *p != '\0' && *p != '\\')
				p++;
			if (*p++ != '"')
				return 0;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return 0;
		}
		p++;
	}
	if (*p++ != ' ' || *p == '\0')
		return 0;
	if (strcmp(p, "+Inf") != 0 && strcmp(p, "NaN") != 0) {
		strtod(p, &end);
		if (*end != '\0')
			return 0;
	}
	return 1;
}

/* Every sample line parses, belongs to a family announced by # TYPE, and
 * every operation and error has its counter. */
static void
test_format(void **state)
{
	char	*text, *line, *save, name[128], family[128] = "";
	int	 requests = 0;

	(void)state;
	text = page();
	assert_true(text[strlen(text) - 1] == '\n');
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "# TYPE ", 7) == 0) {
			snprintf(family, sizeof family, "%.*s",
			    (int)strcspn(line + 7, " "), line + 7);
			continue;
		}
		if (line[0] == '#')
			continue;
		if (!sample_line(line, name, sizeof name))
			fail_msg("not a sample: %s", line);
		if (strncmp(name, family, strlen(family)) != 0)
			fail_msg("%s outside its family %s", name, family);
		if (strcmp(name, "ecadmd_requests_total") == 0)
			requests++;
	}
	assert_int_equal(requests, OP__COUNT * (E__COUNT + 1));
	free(text);
}

static void
test_loopback(void **state)
{
	static const char *const	 good[] = { "127.0.0.1:9", "127.1.2.3:9",
		"[::1]:9", "localhost:9", "[::ffff:127.0.0.1]:9" };
	static const char *const	 bad[] = { "0.0.0.0:9", ":9", "[::]:9",
		"192.0.2.1:9", "[2001:db8::1]:9", "10.0.0.1:9",
		"[::ffff:192.0.2.1]:9", "127.0.0.1" };
	char				*cause;
	size_t				 i;

	(void)state;
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		cause = NULL;
		if (net_check_loopback(good[i], &cause) != 0)
			fail_msg("%s refused: %s", good[i], cause);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cause = NULL;
		if (net_check_loopback(bad[i], &cause) != -1)
			fail_msg("%s taken for the loopback", bad[i]);
		assert_non_null(cause);
		free(cause);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests_and_histogram),
		cmocka_unit_test(test_out_of_range_is_ignored),
		cmocka_unit_test(test_gauges),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
