/* Unit tests of earshot.yaml reading: defaults, every key, every kind of mistake with its exact
 * position, listen and CIDR parsing, admin tokens, destinations, plugins and the YAML helpers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "paths.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "util.h"
#include "test_support.h"
#include "yaml_doc.h"

#define NAME "earshot.yaml"

/* ---- helpers -------------------------------------------------------------------------------- */

/* Parses yaml (base dir ".") expecting success. Returns the config (caller frees). */
static earshot_config *parse_ok_in(const char *yaml, const char *base_dir)
{
	diag_list d;
	diag_init(&d);
	earshot_config *c = config_parse_string(yaml, strlen(yaml), NAME, base_dir, &d);
	if (!c || d.n) {
		char *all = diag_join(&d);
		fprintf(stderr, "unexpected problems:\n%s\n", all);
		free(all);
	}
	assert_non_null(c);
	assert_int_equal(d.n, 0);
	diag_free(&d);
	return c;
}

static earshot_config *parse_ok(const char *yaml)
{
	return parse_ok_in(yaml, ".");
}

/* Parses yaml expecting it to be refused with exactly the expected lines. */
static void expect_problems(const char *yaml, const char *expected)
{
	diag_list d;
	diag_init(&d);
	earshot_config *c = config_parse_string(yaml, strlen(yaml), NAME, ".", &d);
	assert_null(c);
	char *all = diag_join(&d);
	assert_string_equal(all, expected);
	free(all);
	diag_free(&d);
}

/* Checks that c holds the documented default of every key but destinations and plugins. */
static void assert_default_settings(const earshot_config *c)
{
	assert_string_equal(c->listen_host, "127.0.0.1");
	assert_int_equal(c->listen_port, 8080);
	assert_string_equal(c->public_url, "http://localhost:8080");
	assert_string_equal(c->database, "earshot.db");
	assert_int_equal(c->durability, DURABILITY_FULL);
	assert_string_equal(c->forms_dir, "forms");
	assert_string_equal(c->static_dir, "static");
	assert_int_equal(c->limits.max_body_bytes, 65536);
	assert_int_equal(c->limits.submissions_per_minute, 30);
	assert_int_equal(c->limits.min_fill_seconds, 2);
	assert_int_equal(c->limits.header_timeout_seconds, 10);
	assert_int_equal(c->limits.max_connections, 4096);
	assert_int_equal(c->n_trusted_proxies, 0);
	assert_int_equal(c->n_allowed_origins, 1);
	assert_string_equal(c->allowed_origins[0], "*");
	assert_int_equal(c->privacy.client_ip, CLIENT_IP_HASHED);
	assert_int_equal(c->privacy.retention_days, 0);
	assert_int_equal(c->n_admin_tokens, 0);
}

/* Checks that c holds the documented default of every key: without `plugins:`, the shipped plugins and
 * the destination they write to. */
static void assert_defaults(const earshot_config *c)
{
	assert_default_settings(c);
	assert_int_equal(c->n_destinations, 1);
	assert_string_equal(c->destinations[0].name, "complaints-log");
	assert_int_equal(c->n_plugins, 3);
	assert_string_equal(c->plugins[0].name, "nps");
	assert_string_equal(c->plugins[0].path, EARSHOT_PLUGINDIR "/nps.so");
	assert_string_equal(c->plugins[2].name, "incentive");
}

/* ---- defaults ------------------------------------------------------------------------------- */

static void test_embedded_default_parses(void **state)
{
	(void)state;
	diag_list d;
	diag_init(&d);
	earshot_config *c = config_parse_string(config_embedded_default, strlen(config_embedded_default),
	                                        "<embedded default>", ".", &d);
	assert_non_null(c);
	assert_int_equal(d.n, 0);
	assert_default_settings(c);
	/* The bundled plugins, and the file destination complaints are written to. */
	assert_int_equal(c->n_plugins, 3);
	assert_string_equal(c->plugins[0].name, "nps");
	assert_string_equal(c->plugins[1].name, "complaint-router");
	assert_string_equal(c->plugins[2].name, "incentive");
	assert_int_equal(c->n_destinations, 1);
	assert_string_equal(c->destinations[0].name, "complaints-log");
	assert_int_equal(c->destinations[0].type, DEST_FILE);
	assert_string_equal(c->source, "<embedded default>");
	assert_string_equal(c->dir, ".");
	config_free(c);
	diag_free(&d);
}

static void test_empty_file_gives_defaults(void **state)
{
	(void)state;
	earshot_config *c = parse_ok("");
	assert_defaults(c);
	assert_string_equal(c->source, NAME);
	config_free(c);
	c = parse_ok("# nothing but a comment\n");
	assert_defaults(c);
	config_free(c);
	c = parse_ok("~\n");
	assert_defaults(c);
	config_free(c);
}

static void test_every_key(void **state)
{
	(void)state;
	earshot_config *c = parse_ok_in(
		"listen: 0.0.0.0:9090\n"
		"public_url: https://feedback.example.com/\n"
		"database: data/answers.db\n"
		"durability: normal\n"
		"forms_dir: /srv/forms\n"
		"static_dir: web\n"
		"limits:\n"
		"  max_body_bytes: 1024\n"
		"  submissions_per_minute: 5\n"
		"  min_fill_seconds: 0\n"
		"  header_timeout_seconds: 3\n"
		"  max_connections: 50\n"
		"trusted_proxies: [10.0.0.0/8, \"::1\", 192.168.1.7]\n"
		"cors:\n"
		"  allowed_origins: [https://shop.example.com, \"http://localhost:3000\"]\n"
		"privacy:\n"
		"  client_ip: truncated\n"
		"  retention_days: 365\n"
		"admin:\n"
		"  tokens: [\"sha256:00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\"]\n",
		"/etc/earshot");
	assert_string_equal(c->dir, "/etc/earshot");
	assert_string_equal(c->listen_host, "0.0.0.0");
	assert_int_equal(c->listen_port, 9090);
	assert_string_equal(c->public_url, "https://feedback.example.com");
	assert_string_equal(c->database, "/etc/earshot/data/answers.db");
	assert_int_equal(c->durability, DURABILITY_NORMAL);
	assert_string_equal(c->forms_dir, "/srv/forms");
	assert_string_equal(c->static_dir, "/etc/earshot/web");
	assert_int_equal(c->limits.max_body_bytes, 1024);
	assert_int_equal(c->limits.submissions_per_minute, 5);
	assert_int_equal(c->limits.min_fill_seconds, 0);
	assert_int_equal(c->limits.header_timeout_seconds, 3);
	assert_int_equal(c->limits.max_connections, 50);
	assert_int_equal(c->n_trusted_proxies, 3);
	assert_int_equal(c->trusted_proxies[0].family, AF_INET);
	assert_int_equal(c->trusted_proxies[0].prefix, 8);
	assert_int_equal(c->trusted_proxies[1].family, AF_INET6);
	assert_int_equal(c->trusted_proxies[1].prefix, 128);
	assert_int_equal(c->trusted_proxies[2].prefix, 32);
	assert_int_equal(c->n_allowed_origins, 2);
	assert_string_equal(c->allowed_origins[0], "https://shop.example.com");
	assert_string_equal(c->allowed_origins[1], "http://localhost:3000");
	assert_int_equal(c->privacy.client_ip, CLIENT_IP_TRUNCATED);
	assert_int_equal(c->privacy.retention_days, 365);
	assert_int_equal(c->n_admin_tokens, 1);
	assert_int_equal(c->admin_tokens[0][0], 0x00);
	assert_int_equal(c->admin_tokens[0][1], 0x11);
	assert_int_equal(c->admin_tokens[0][15], 0xff);
	assert_int_equal(c->admin_tokens[0][31], 0xff);
	config_free(c);

	/* a relative base directory keeps paths relative; client_ip none */
	c = parse_ok_in("database: a.db\nprivacy: {client_ip: none}\ncors: {allowed_origins: []}\n", "conf/");
	assert_string_equal(c->database, "conf/a.db");
	assert_string_equal(c->forms_dir, "conf/forms");
	assert_int_equal(c->privacy.client_ip, CLIENT_IP_NONE);
	assert_int_equal(c->n_allowed_origins, 0);
	assert_null(c->state_dir); /* SQLite: the node's files go beside the database */
	config_free(c);

	/* state_dir: as written, resolved; with a PostgreSQL database and none, the config's directory */
	c = parse_ok_in("database: a.db\nstate_dir: state\n", "/etc/earshot");
	assert_string_equal(c->state_dir, "/etc/earshot/state");
	config_free(c);
	c = parse_ok_in("database: postgresql://earshot@db/earshot\n", "/etc/earshot");
	assert_string_equal(c->state_dir, "/etc/earshot");
	config_free(c);
	c = parse_ok_in("database: postgresql://earshot@db/earshot\nstate_dir: /var/lib/earshot\n", "/etc/earshot");
	assert_string_equal(c->state_dir, "/var/lib/earshot");
	config_free(c);
}

/* ---- listen --------------------------------------------------------------------------------- */

static void test_listen_parsing(void **state)
{
	(void)state;
	struct {
		const char *text, *host;
		int port;
	} good[] = {
		{ "127.0.0.1:8080", "127.0.0.1", 8080 },
		{ "\"[::1]:8080\"", "::1", 8080 },
		{ "\"[::]:80\"", "::", 80 },
		{ "\"[2001:db8::5]:65535\"", "2001:db8::5", 65535 },
		{ "localhost:9000", "localhost", 9000 },
		{ "0.0.0.0:0", "0.0.0.0", 0 },
	};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
		char *yaml = xasprintf("listen: %s\n", good[i].text);
		earshot_config *c = parse_ok(yaml);
		assert_string_equal(c->listen_host, good[i].host);
		assert_int_equal(c->listen_port, good[i].port);
		config_free(c);
		free(yaml);
	}
	const char *bad[] = { "localhost", "\"[::1]8080\"", "\"[zz]:80\"", "1.2.3.4:70000", "\":80\"", "\"::1:8080\"",
	                      "\"1.2.3.4:\"", "1.2.3.4:80a", "\"a b:80\"", "8080" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char *yaml = xasprintf("listen: %s\n", bad[i]);
		const char *shown = bad[i][0] == '"' ? "" : bad[i];
		char *unquoted = xstrndup(bad[i] + 1, strlen(bad[i]) - 2);
		char *want = xasprintf(NAME ":1:9: invalid value \"%s\" for \"listen\", it must be host:port or "
		                       "[IPv6]:port, such as 127.0.0.1:8080 or [::1]:8080", *shown ? shown : unquoted);
		expect_problems(yaml, want);
		free(want);
		free(unquoted);
		free(yaml);
	}
}

/* ---- mistakes ------------------------------------------------------------------------------- */

static void test_unknown_key(void **state)
{
	(void)state;
	expect_problems("listen: 127.0.0.1:8080\nlimts:\n  max_body_bytes: 5\n",
	                NAME ":2:1: unknown key \"limts\", expected one of: listen, public_url, database, durability, "
	                "forms_dir, static_dir, state_dir, limits, trusted_proxies, cors, privacy, admin, destinations, plugins, metrics");
	expect_problems("limits:\n  max_body_bytes: 100\n  max_bodybytes: 5\n",
	                NAME ":3:3: unknown key \"max_bodybytes\", expected one of: max_body_bytes, submissions_per_minute, "
	                "min_fill_seconds, header_timeout_seconds, max_connections");
	expect_problems("cors: {origins: [\"*\"]}\n", NAME ":1:8: unknown key \"origins\", expected one of: allowed_origins");
	expect_problems("privacy: {ip: none}\n", NAME ":1:11: unknown key \"ip\", expected one of: client_ip, retention_days");
	expect_problems("admin: {token: []}\n", NAME ":1:9: unknown key \"token\", expected one of: tokens");
}

static void test_bad_enum(void **state)
{
	(void)state;
	expect_problems("listen: 127.0.0.1:8080\ndatabase: earshot.db\ndurability: fulll\n",
	                NAME ":3:13: invalid value \"fulll\" for \"durability\", it must be one of: full, normal");
	expect_problems("privacy:\n  client_ip: clear\n",
	                NAME ":2:14: invalid value \"clear\" for \"client_ip\", it must be one of: none, truncated, hashed");
	/* quoted values are read like plain ones */
	earshot_config *c = parse_ok("durability: \"normal\"\nlimits: {min_fill_seconds: \"3\"}\n");
	assert_int_equal(c->durability, DURABILITY_NORMAL);
	assert_int_equal(c->limits.min_fill_seconds, 3);
	config_free(c);
}

static void test_wrong_types(void **state)
{
	(void)state;
	expect_problems("limits: 5\n", NAME ":1:9: \"limits\" must be a mapping, not \"5\"");
	expect_problems("listen: [a]\n", NAME ":1:9: \"listen\" must be a string, not a sequence");
	expect_problems("database:\n", NAME ":1:10: missing value for \"database\"");
	expect_problems("limits:\n  max_body_bytes: lots\n",
	                NAME ":2:19: invalid value \"lots\" for \"max_body_bytes\", it must be an integer >= 1");
	expect_problems("limits:\n  submissions_per_minute: 2.5\n",
	                NAME ":2:27: invalid value \"2.5\" for \"submissions_per_minute\", it must be an integer >= 1");
	expect_problems("limits:\n  min_fill_seconds: 4\n",
	                NAME ":2:21: invalid value \"4\" for \"min_fill_seconds\", it must be an integer from 0 to 3");
	expect_problems("limits:\n  header_timeout_seconds: {a: 1}\n",
	                NAME ":2:27: \"header_timeout_seconds\" must be an integer >= 1, not a mapping");
	expect_problems("limits:\n  max_body_bytes: 99999999999999999999\n",
	                NAME ":2:19: invalid value \"99999999999999999999\" for \"max_body_bytes\", "
	                "it must be an integer >= 1");
	expect_problems("privacy:\n  retention_days: -1\n",
	                NAME ":2:19: invalid value \"-1\" for \"retention_days\", it must be an integer >= 0");
	expect_problems("trusted_proxies: 10.0.0.0/8\n",
	                NAME ":1:18: \"trusted_proxies\" must be a sequence of strings, not \"10.0.0.0/8\"");
	expect_problems("cors: {allowed_origins: [{a: b}]}\n",
	                NAME ":1:26: each item of \"allowed_origins\" must be a string, not a mapping");
	expect_problems("- listen\n",
	                NAME ":1:1: the configuration must be a mapping of settings such as \"listen: 127.0.0.1:8080\"");
	expect_problems("public_url: ftp://example.com\n",
	                NAME ":1:13: invalid value \"ftp://example.com\" for \"public_url\", it must be an http:// or "
	                "https:// "
	                "URL such as https://feedback.example.com");
	expect_problems("public_url: http://\n",
	                NAME ":1:13: invalid value \"http://\" for \"public_url\", it must be an http:// or https:// "
	                "URL such as https://feedback.example.com");
	expect_problems("cors:\n  allowed_origins: [\"*\", https://shop.example.com/, shop.example.com]\n",
	                NAME ":2:26: invalid value \"https://shop.example.com/\" for \"allowed_origins\", it must be \"*\" or "
	                "an origin such as https://shop.example.com (no path)\n"
	                NAME ":2:53: invalid value \"shop.example.com\" for \"allowed_origins\", it must be \"*\" or "
	                "an origin such as https://shop.example.com (no path)");
}

static void test_syntax_error(void **state)
{
	(void)state;
	expect_problems("listen: 127.0.0.1:8080\n  database: x.db\n",
	                NAME ":2:11: syntax error: mapping values are not allowed in this context");
	expect_problems("limits: {max_body_bytes: 5\n",
	                NAME ":2:1: syntax error: did not find expected ',' or '}' (while parsing a flow mapping at line 1)");
	expect_problems("durability: full\n---\ndurability: normal\n",
	                NAME ":3:1: only one YAML document is allowed in this file");
	expect_problems("listen: \"a\tb\x01\"\n", NAME ":1:13: syntax error: control characters are not allowed");
}

static void test_duplicate_key(void **state)
{
	(void)state;
	expect_problems("listen: 127.0.0.1:1\ndurability: full\nlisten: 127.0.0.1:2\n",
	                NAME ":3:1: duplicate key \"listen\", first given at line 1");
	expect_problems("limits:\n  min_fill_seconds: 1\n  min_fill_seconds: 2\n",
	                NAME ":3:3: duplicate key \"min_fill_seconds\", first given at line 2");
	expect_problems("destinations:\n  a: {type: file, path: x}\n  a: {type: file, path: y}\n",
	                NAME ":3:3: duplicate key \"a\", first given at line 2");
	expect_problems("? [a, b]\n: c\n", NAME ":1:3: keys must be plain names, not a sequence");
}

static void test_several_problems_all_reported(void **state)
{
	(void)state;
	expect_problems("listen: nowhere\n"
	                "durability: fulll\n"
	                "limits:\n"
	                "  max_body_bytes: 0\n"
	                "  limts: 3\n"
	                "privacy: {client_ip: clear, retention_days: x}\n"
	                "colour: blue\n",
	                NAME ":1:9: invalid value \"nowhere\" for \"listen\", it must be host:port or [IPv6]:port, such as "
	                "127.0.0.1:8080 or [::1]:8080\n"
	                NAME ":2:13: invalid value \"fulll\" for \"durability\", it must be one of: full, normal\n"
	                NAME ":4:19: invalid value \"0\" for \"max_body_bytes\", it must be an integer >= 1\n"
	                NAME ":5:3: unknown key \"limts\", expected one of: max_body_bytes, submissions_per_minute, "
	                "min_fill_seconds, header_timeout_seconds, max_connections\n"
	                NAME ":6:22: invalid value \"clear\" for \"client_ip\", it must be one of: none, truncated, hashed\n"
	                NAME ":6:45: invalid value \"x\" for \"retention_days\", it must be an integer >= 0\n"
	                NAME ":7:1: unknown key \"colour\", expected one of: listen, public_url, database, durability, "
	                "forms_dir, static_dir, state_dir, limits, trusted_proxies, cors, privacy, admin, destinations, plugins, metrics");
}

/* ---- tokens and proxies --------------------------------------------------------------------- */

static void test_token_format(void **state)
{
	(void)state;
	const char *hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	char *yaml = xasprintf("admin:\n  tokens:\n    - sha256:%s\n    - \"sha256:%s\"\n", hex, hex);
	earshot_config *c = parse_ok(yaml);
	assert_int_equal(c->n_admin_tokens, 2);
	assert_int_equal(c->admin_tokens[0][0], 0x9f);
	assert_int_equal(c->admin_tokens[0][1], 0x86);
	assert_int_equal(c->admin_tokens[1][31], 0x08);
	config_free(c);
	free(yaml);

	const char *msg = "invalid value for \"tokens\", it must be \"sha256:\" followed by 64 hex digits (the line "
	                  "printed by earshot token, not the token itself)";
	const char *bad[] = {
		"my-secret-token",                                                         /* the raw token */
		"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0",  /* 63 digits */
		"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a088", /* 65 digits */
		"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0g",  /* not hex */
		"SHA256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",  /* prefix case */
		"sha1:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		yaml = xasprintf("admin:\n  tokens: [\"%s\"]\n", bad[i]);
		char *want = xasprintf(NAME ":2:12: %s", msg);
		expect_problems(yaml, want);
		free(want);
		free(yaml);
	}
	/* the message never repeats what was written: a pasted token must not reach the log */
	diag_list d;
	diag_init(&d);
	const char *leak = "admin: {tokens: [hunter2-token]}\n";
	assert_null(config_parse_string(leak, strlen(leak), NAME, ".", &d));
	assert_null(strstr(d.items[0], "hunter2"));
	diag_free(&d);
}

/* Parses an IPv4 or IPv6 address into bytes, returning its family. */
static int addr(const char *s, unsigned char out[16])
{
	memset(out, 0, 16);
	if (inet_pton(AF_INET, s, out) == 1)
		return AF_INET;
	assert_int_equal(inet_pton(AF_INET6, s, out), 1);
	return AF_INET6;
}

static void test_cidr(void **state)
{
	(void)state;
	cidr r;
	unsigned char a[16];
	int fam;
	assert_int_equal(cidr_parse("10.0.0.0/8", &r), 0);
	assert_int_equal(r.family, AF_INET);
	assert_int_equal(r.prefix, 8);
	fam = addr("10.200.3.4", a);
	assert_true(cidr_contains(&r, fam, a));
	fam = addr("11.0.0.1", a);
	assert_false(cidr_contains(&r, fam, a));
	fam = addr("::ffff:10.1.2.3", a); /* IPv4 peer on a dual-stack socket */
	assert_true(cidr_contains(&r, fam, a));
	fam = addr("::1", a);
	assert_false(cidr_contains(&r, fam, a));

	assert_int_equal(cidr_parse("192.168.1.7", &r), 0);
	assert_int_equal(r.prefix, 32);
	fam = addr("192.168.1.7", a);
	assert_true(cidr_contains(&r, fam, a));
	fam = addr("192.168.1.8", a);
	assert_false(cidr_contains(&r, fam, a));

	assert_int_equal(cidr_parse("172.16.0.0/12", &r), 0);
	fam = addr("172.31.255.255", a);
	assert_true(cidr_contains(&r, fam, a));
	fam = addr("172.32.0.0", a);
	assert_false(cidr_contains(&r, fam, a));

	assert_int_equal(cidr_parse("10.1.2.3/8", &r), 0); /* host bits are ignored */
	assert_int_equal(r.addr[1], 0);
	fam = addr("10.9.9.9", a);
	assert_true(cidr_contains(&r, fam, a));

	assert_int_equal(cidr_parse("0.0.0.0/0", &r), 0);
	fam = addr("203.0.113.9", a);
	assert_true(cidr_contains(&r, fam, a));

	assert_int_equal(cidr_parse("::1", &r), 0);
	assert_int_equal(r.family, AF_INET6);
	assert_int_equal(r.prefix, 128);
	fam = addr("::1", a);
	assert_true(cidr_contains(&r, fam, a));
	fam = addr("::2", a);
	assert_false(cidr_contains(&r, fam, a));
	fam = addr("127.0.0.1", a);
	assert_false(cidr_contains(&r, fam, a));

	assert_int_equal(cidr_parse("2001:db8::/33", &r), 0);
	fam = addr("2001:db8:7fff::1", a);
	assert_true(cidr_contains(&r, fam, a));
	fam = addr("2001:db8:8000::1", a);
	assert_false(cidr_contains(&r, fam, a));

	const char *bad[] = { "", "10.0.0.0/33", "::1/129", "10.0.0/8", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8",
	                      "example.com", "10.0.0.0/ 8", "300.0.0.1", "10.0.0.0/0008" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		assert_int_equal(cidr_parse(bad[i], &r), -1);
}

static void test_trusted_proxies(void **state)
{
	(void)state;
	earshot_config *c = parse_ok("trusted_proxies: [10.0.0.0/8, \"fd00::/8\"]\n");
	unsigned char a[16];
	int fam = addr("10.0.0.1", a);
	assert_true(config_is_trusted_proxy(c, fam, a));
	fam = addr("fd12::1", a);
	assert_true(config_is_trusted_proxy(c, fam, a));
	fam = addr("192.0.2.1", a);
	assert_false(config_is_trusted_proxy(c, fam, a));
	config_free(c);

	c = parse_ok("");
	fam = addr("127.0.0.1", a);
	assert_false(config_is_trusted_proxy(c, fam, a)); /* nobody is trusted by default */
	config_free(c);

	expect_problems("trusted_proxies:\n  - 10.0.0.0/8\n  - 10.0.0.0/33\n  - proxy.local\n",
	                NAME ":3:5: invalid value \"10.0.0.0/33\" for \"trusted_proxies\", it must be an address or CIDR "
	                "range such as 10.0.0.0/8, 192.168.1.7 or ::1\n"
	                NAME ":4:5: invalid value \"proxy.local\" for \"trusted_proxies\", it must be an address or CIDR "
	                "range such as 10.0.0.0/8, 192.168.1.7 or ::1");
}

/* ---- destinations and plugins ---------------------------------------------------------------- */

static void test_destinations(void **state)
{
	(void)state;
	earshot_config *c = parse_ok_in(
		"destinations:\n"
		"  support:\n"
		"    type: webhook\n"
		"    url: http://127.0.0.1:9000/hook\n"
		"    secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
		"    timeout_seconds: 7\n"
		"    retry_for_hours: 0.5\n"
		"  plain:\n"
		"    type: webhook\n"
		"    url: https://example.com/in\n"
		"  complaints-log:\n"
		"    type: file\n"
		"    path: complaints.ndjson\n",
		"/var/lib/earshot");
	assert_int_equal(c->n_destinations, 3);
	const destination *d = config_find_destination(c, "support");
	assert_non_null(d);
	assert_int_equal(d->type, DEST_WEBHOOK);
	assert_string_equal(d->url, "http://127.0.0.1:9000/hook");
	assert_string_equal(d->secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
	assert_int_equal(d->timeout_seconds, 7);
	assert_true(d->retry_for_hours == 0.5);
	d = config_find_destination(c, "plain");
	assert_null(d->secret);
	assert_int_equal(d->timeout_seconds, 5);
	assert_true(d->retry_for_hours == 24);
	d = config_find_destination(c, "complaints-log");
	assert_int_equal(d->type, DEST_FILE);
	assert_string_equal(d->path, "/var/lib/earshot/complaints.ndjson");
	assert_null(config_find_destination(c, "nope"));
	config_free(c);

	c = parse_ok("destinations:\nplugins: []\n");
	assert_int_equal(c->n_destinations, 0);
	config_free(c);
}

static void test_destination_mistakes(void **state)
{
	(void)state;
	expect_problems("destinations:\n"
	                "  a:\n"
	                "    type: webhook\n"
	                "    url: ftp://x\n"
	                "    secret: MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
	                "    path: x\n"
	                "  b:\n"
	                "    type: webhook\n"
	                "    secret: whsec_abc\n"
	                "    timeout_seconds: 0\n"
	                "  c:\n"
	                "    type: file\n"
	                "    url: http://x\n"
	                "  d:\n"
	                "    type: mail\n"
	                "  e:\n"
	                "    path: x\n"
	                "    retry_for_hours: -1\n"
	                "  f: webhook\n"
	                "  g:\n"
	                "    type: webhook\n"
	                "    url: http://x\n"
	                "    secret: whsec_a!b=\n"
	                "    sign: yes\n",
	                NAME ":4:10: invalid value \"ftp://x\" for \"url\", it must be an http:// or https:// URL\n"
	                NAME ":5:13: invalid value for \"secret\", it must be \"whsec_\" followed by base64, such as "
	                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
	                NAME ":6:5: \"path\" is only allowed for file destinations\n"
	                NAME ":8:5: missing required key \"url\"\n"
	                NAME ":9:13: invalid value for \"secret\", it must be \"whsec_\" followed by base64, such as "
	                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
	                NAME ":10:22: invalid value \"0\" for \"timeout_seconds\", it must be an integer from 1 to 3600\n"
	                NAME ":12:5: missing required key \"path\"\n"
	                NAME ":13:5: \"url\" is only allowed for webhook destinations\n"
	                NAME ":15:11: invalid value \"mail\" for \"type\", it must be one of: webhook, file, email, chat\n"
	                NAME ":17:5: missing required key \"type\"\n"
	                NAME ":18:22: invalid value \"-1\" for \"retry_for_hours\", it must be a number >= 0\n"
	                NAME ":19:6: \"f\" must be a mapping, not \"webhook\"\n"
	                NAME ":23:13: invalid value for \"secret\", it must be \"whsec_\" followed by base64, such as "
	                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n"
	                NAME ":24:5: unknown key \"sign\", expected one of: type, url, secret, timeout_seconds, "
	                "retry_for_hours, path, smtp_url, username, password_file, from, to, format");
	expect_problems("destinations: [a]\n", NAME ":1:15: \"destinations\" must be a mapping, not a sequence");
	/* base64 with padding is fine */
	earshot_config *c = parse_ok("destinations:\n  a: {type: webhook, url: \"http://x/y\", secret: whsec_YWJjZA==}\n");
	assert_string_equal(c->destinations[0].secret, "whsec_YWJjZA==");
	config_free(c);
}

static void test_plugins(void **state)
{
	(void)state;
	earshot_config *c = parse_ok_in(
		"plugins:\n"
		"  - name: nps\n"
		"    path: plugins/nps.so\n"
		"  - name: incentive\n"
		"    path: /usr/lib/earshot/plugins/incentive.so\n"
		"    forms: [exit-survey, \"nps*\"]\n"
		"    config:\n"
		"      offer: \"10% off\"\n"
		"      requires: [email]\n"
		"      codes: {source: generate, prefix: EAR}\n"
		"      n: 3\n"
		"      hex: 0x1F\n"
		"      f: 2.5\n"
		"      e: 1e3\n"
		"      big: 123456789012345678901234567890\n"
		"      yes_is_a_string: yes\n"
		"      t: true\n"
		"      z: ~\n"
		"      empty:\n"
		"      quoted: \"12\"\n"
		"      inf: .inf\n"
		"      block: |\n"
		"        line\n",
		"/etc/earshot");
	assert_int_equal(c->n_plugins, 2);
	plugin_spec *p = &c->plugins[0];
	assert_string_equal(p->name, "nps");
	assert_string_equal(p->path, "/etc/earshot/plugins/nps.so");
	assert_int_equal(p->n_forms, 1);
	assert_string_equal(p->forms[0], "*");
	assert_true(json_is_object(p->config));
	assert_int_equal(json_object_size(p->config), 0);
	assert_string_equal(p->where, NAME ":2:5");
	p = &c->plugins[1];
	assert_string_equal(p->path, "/usr/lib/earshot/plugins/incentive.so");
	assert_int_equal(p->n_forms, 2);
	assert_string_equal(p->forms[1], "nps*");
	json_t *big = json_object_get(p->config, "big"); /* too large for 64 bits: a real */
	assert_true(json_is_real(big));
	assert_true(json_real_value(big) > 1.2e29 && json_real_value(big) < 1.3e29);
	json_object_del(p->config, "big");
	char *text = json_dumps(p->config, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(text,
		"{\"block\":\"line\\n\",\"codes\":{\"prefix\":\"EAR\",\"source\":\"generate\"},"
		"\"e\":1000.0,\"empty\":null,\"f\":2.5,\"hex\":31,\"inf\":\".inf\",\"n\":3,\"offer\":\"10% off\",\"quoted\":\"12\","
		"\"requires\":[\"email\"],\"t\":true,\"yes_is_a_string\":\"yes\",\"z\":null}");
	free(text);
	config_free(c);

	c = parse_ok("plugins:\n  - {name: a, path: a.so, config: }\n");
	assert_int_equal(json_object_size(c->plugins[0].config), 0);
	config_free(c);
}

/* The first-run rules: plugins by name, the shipped plugins unless `plugins:` is given, public_url
 * following listen. */
static void test_first_run_rules(void **state)
{
	(void)state;
	earshot_config *c = parse_ok_in("plugins:\n  - name: nps\n  - name: router\n    path: complaint-router\n"
	                                "  - name: inc\n    path: incentive.so\n  - name: mine\n    path: lib/mine.so\n",
	                                "/etc/earshot");
	assert_int_equal(c->n_plugins, 4);
	assert_string_equal(c->plugins[0].path, EARSHOT_PLUGINDIR "/nps.so");
	assert_string_equal(c->plugins[1].path, EARSHOT_PLUGINDIR "/complaint-router.so");
	assert_string_equal(c->plugins[2].path, EARSHOT_PLUGINDIR "/incentive.so");
	assert_string_equal(c->plugins[3].path, "/etc/earshot/lib/mine.so");
	assert_int_equal(c->n_destinations, 0);
	config_free(c);

	/* a bare name that is a file in the config directory is that file */
	char *dir = xstrdup("/tmp/earshot-test-firstrun-XXXXXX");
	assert_non_null(mkdtemp(dir));
	test_write_file_in(dir, "nps.so", "not really a plugin");
	c = parse_ok_in("plugins:\n  - {name: nps, path: nps.so}\n  - {name: other, path: nps}\n", dir);
	char *want = xasprintf("%s/nps.so", dir);
	assert_string_equal(c->plugins[0].path, want);
	assert_string_equal(c->plugins[1].path, EARSHOT_PLUGINDIR "/nps.so");
	free(want);
	config_free(c);

	/* plugins: [] (or an empty plugins:) turns the shipped plugins off */
	c = parse_ok("plugins: []\n");
	assert_int_equal(c->n_plugins, 0);
	assert_int_equal(c->n_destinations, 0);
	config_free(c);
	c = parse_ok("plugins:\n");
	assert_int_equal(c->n_plugins, 0);
	config_free(c);

	/* omitted: the shipped plugins; complaints-log added beside the file's own destinations, resolved
	 * against the config directory, unless the file defines one of that name */
	c = parse_ok_in("destinations:\n  hook: {type: webhook, url: \"http://127.0.0.1:9/x\"}\n", dir);
	assert_int_equal(c->n_plugins, 3);
	assert_string_equal(c->plugins[1].name, "complaint-router");
	assert_int_equal(c->n_destinations, 2);
	want = xasprintf("%s/complaints.ndjson", dir);
	assert_string_equal(config_find_destination(c, "complaints-log")->path, want);
	free(want);
	config_free(c);
	c = parse_ok("destinations:\n  complaints-log: {type: webhook, url: \"http://127.0.0.1:9/x\"}\n");
	assert_int_equal(c->n_destinations, 1);
	assert_int_equal(c->destinations[0].type, DEST_WEBHOOK);
	config_free(c);

	/* public_url follows listen unless given */
	static const char *const cases[][2] = {
		{ "listen: 127.0.0.1:9090\n", "http://localhost:9090" },
		{ "listen: 0.0.0.0:80\n", "http://localhost" },
		{ "listen: \"[::1]:8081\"\n", "http://localhost:8081" },
		{ "listen: 192.0.2.7:8080\n", "http://192.0.2.7:8080" },
		{ "listen: \"[2001:db8::1]:8080\"\n", "http://[2001:db8::1]:8080" },
		{ "listen: feedback.example.com:80\n", "http://feedback.example.com" },
		{ "listen: 0.0.0.0:80\npublic_url: https://f.example.com/\n", "https://f.example.com" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		c = parse_ok(cases[i][0]);
		assert_string_equal(c->public_url, cases[i][1]);
		config_free(c);
	}
	char *file = xasprintf("%s/nps.so", dir);
	unlink(file);
	free(file);
	rmdir(dir);
	free(dir);
}

static void test_plugin_mistakes(void **state)
{
	(void)state;
	expect_problems("plugins:\n"
	                "  - name: nps\n"
	                "    path: nps.so\n"
	                "  - name: nps\n"
	                "    path: other.so\n"
	                "  - path: x.so\n"
	                "    forms: exit\n"
	                "  - name: y\n"
	                "    config: [a]\n"
	                "    option: 1\n"
	                "  - y.so\n",
	                NAME ":4:11: duplicate plugin name \"nps\", first given at line 2\n"
	                NAME ":6:5: missing required key \"name\"\n"
	                NAME ":7:12: \"forms\" must be a sequence of strings, not \"exit\"\n"
	                NAME ":9:13: \"config\" must be a mapping, not a sequence\n"
	                NAME ":10:5: unknown key \"option\", expected one of: name, path, forms, config, on_crash\n"
	                NAME ":11:5: each item of \"plugins\" must be a mapping such as {name: nps}");
	expect_problems("plugins: {name: nps}\n", NAME ":1:10: \"plugins\" must be a sequence, not a mapping");
	expect_problems("plugins:\n  - name: a\n    path: a.so\n    config: {k: 1, k: 2}\n",
	                NAME ":4:20: duplicate key \"k\"");
}

static void test_alias_bomb_is_refused(void **state)
{
	(void)state;
	/* each level doubles the work; converting must stop at the node budget, not run for ever */
	const char *yaml =
		"plugins:\n  - name: a\n    path: a.so\n    config:\n"
		"      a: &a [x, x, x, x, x, x, x, x, x, x]\n"
		"      b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"      d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"      e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"      f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
	diag_list d;
	diag_init(&d);
	assert_null(config_parse_string(yaml, strlen(yaml), NAME, ".", &d));
	assert_int_equal(d.n, 1);
	assert_non_null(strstr(d.items[0], "more than 100000 values (through aliases)"));
	diag_free(&d);

	/* small aliases are fine */
	earshot_config *c = parse_ok("plugins:\n  - name: a\n    path: a.so\n    config: {x: &v [1, 2], y: *v}\n");
	char *text = json_dumps(c->plugins[0].config, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(text, "{\"x\":[1,2],\"y\":[1,2]}");
	free(text);
	config_free(c);
}

/* ---- loading files -------------------------------------------------------------------------- */

static void test_load_file(void **state)
{
	(void)state;
	char *dir = xstrdup("/tmp/earshot-test-config-XXXXXX");
	assert_non_null(mkdtemp(dir));
	test_write_file_in(dir, "earshot.yaml", "database: data.db\nforms_dir: my-forms\n");
	char *path = xasprintf("%s/earshot.yaml", dir);
	char *my_forms = xasprintf("%s/my-forms", dir);
	assert_int_equal(mkdir(my_forms, 0700), 0);
	diag_list d;
	diag_init(&d);
	earshot_config *c = config_load(path, &d);
	assert_non_null(c);
	assert_string_equal(c->source, path);
	assert_string_equal(c->dir, dir);
	char *want = xasprintf("%s/data.db", dir);
	assert_string_equal(c->database, want);
	free(want);
	assert_string_equal(c->forms_dir, my_forms);
	assert_int_equal(c->notices.n, 1); /* static: the installed copy */
	rmdir(my_forms);
	free(my_forms);
	config_free(c);

	/* problems name the file as it was given */
	test_write_file_in(dir, "earshot.yaml", "durability: fulll\n");
	assert_null(config_load(path, &d));
	want = xasprintf("%s:1:13: invalid value \"fulll\" for \"durability\", it must be one of: full, normal", path);
	assert_string_equal(d.items[0], want);
	free(want);
	diag_free(&d);

	diag_init(&d);
	assert_null(config_load("/nonexistent/earshot.yaml", &d));
	assert_string_equal(d.items[0], "/nonexistent/earshot.yaml: cannot read the configuration: No such file or directory");
	diag_free(&d);

	/* with no path: ./earshot.yaml when present (paths stay relative to the current directory) */
	char cwd[PATH_MAX];
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(dir), 0);
	test_write_file_in(".", "earshot.yaml", "listen: 127.0.0.1:9999\n");
	diag_init(&d);
	c = config_load(NULL, &d);
	assert_non_null(c);
	assert_string_equal(c->source, "earshot.yaml");
	assert_int_equal(c->listen_port, 9999);
	assert_string_equal(c->database, "earshot.db");
	/* relative forms_dir and static_dir that do not exist: the installed copies, one notice each */
	assert_string_equal(c->forms_dir, EARSHOT_DATADIR "/forms");
	assert_string_equal(c->static_dir, EARSHOT_DATADIR "/static");
	assert_int_equal(c->notices.n, 2);
	assert_string_equal(c->notices.items[0], "earshot.yaml: forms_dir forms is not a directory: using "
	                                         EARSHOT_DATADIR "/forms instead");
	config_free(c);

	/* else the embedded default; forms and static from the data directory unless ./forms, ./static exist */
	unlink("earshot.yaml");
	c = config_load(NULL, &d);
	assert_non_null(c);
	assert_string_equal(c->source, "<embedded default>");
	assert_string_equal(c->database, "earshot.db");
	assert_string_equal(c->forms_dir, EARSHOT_DATADIR "/forms");
	assert_string_equal(c->static_dir, EARSHOT_DATADIR "/static");
	config_free(c);
	assert_int_equal(mkdir("forms", 0700), 0);
	assert_int_equal(mkdir("static", 0700), 0);
	c = config_load(NULL, &d);
	assert_string_equal(c->forms_dir, "forms");
	assert_string_equal(c->static_dir, "static");
	config_free(c);
	assert_int_equal(d.n, 0);
	diag_free(&d);
	rmdir("forms");
	rmdir("static");
	assert_int_equal(chdir(cwd), 0);
	rmdir(dir);
	free(path);
	free(dir);
}

/* ---- yaml_doc helpers ----------------------------------------------------------------------- */

static void test_scalar_kinds(void **state)
{
	(void)state;
	const char *yaml = "[~, null, '', true, False, 12, -3, 0o17, 0x1f, 1.5, .5, 1e3, -.inf, .nan, yes, 0b1, 1_000, "
	                   "\"12\", 12a, 1.2.3, +7]\n";
	ydoc d;
	assert_int_equal(ydoc_load(&d, yaml, strlen(yaml), "t.yaml"), 0);
	yaml_node_t *seq = ydoc_root(&d);
	const yscalar_kind want[] = { YSCALAR_NULL, YSCALAR_NULL, YSCALAR_STRING, YSCALAR_BOOL, YSCALAR_BOOL,
		YSCALAR_INT, YSCALAR_INT, YSCALAR_INT, YSCALAR_INT, YSCALAR_FLOAT, YSCALAR_FLOAT, YSCALAR_FLOAT,
		YSCALAR_FLOAT, YSCALAR_FLOAT, YSCALAR_STRING, YSCALAR_STRING, YSCALAR_STRING, YSCALAR_STRING,
		YSCALAR_STRING, YSCALAR_STRING, YSCALAR_INT };
	assert_int_equal(ydoc_seq_size(seq), sizeof want / sizeof *want);
	for (size_t i = 0; i < sizeof want / sizeof *want; i++)
		assert_int_equal(ydoc_scalar_kind(ydoc_seq_item(&d, seq, i)), want[i]);
	json_t *j = ydoc_to_json(&d, seq);
	char *text = json_dumps(j, JSON_COMPACT);
	assert_string_equal(text, "[null,null,\"\",true,false,12,-3,15,31,1.5,0.5,1000.0,\"-.inf\",\".nan\",\"yes\","
	                          "\"0b1\",\"1_000\",\"12\",\"12a\",\"1.2.3\",7]");
	free(text);
	json_decref(j);
	assert_int_equal(ydoc_problem_count(&d), 0);
	ydoc_free(&d);
}

static void test_show_escapes(void **state)
{
	(void)state;
	char *s = ydoc_show("a\"b\\c\nd\te\x01", 10);
	assert_string_equal(s, "a\\\"b\\\\c\\nd\\te\\x01");
	free(s);
	char long_text[100];
	memset(long_text, 'x', sizeof long_text);
	s = ydoc_show(long_text, sizeof long_text);
	assert_int_equal(strlen(s), 63);
	assert_string_equal(s + 60, "...");
	free(s);
	/* never cut inside a UTF-8 sequence */
	char utf[80];
	memset(utf, 'x', 59);
	memcpy(utf + 59, "\xc5\xa1", 2); /* š across the 60-byte mark */
	memset(utf + 61, 'y', 10);
	s = ydoc_show(utf, 71);
	assert_int_equal(strlen(s), 62);
	assert_string_equal(s + 59, "...");
	free(s);
}

static void test_typed_readers(void **state)
{
	(void)state;
	const char *yaml = "s: hi\ni: 7\nb: TRUE\nn: -2.5e1\ne: two\nl: [a, b]\nm: {x: 1}\n";
	ydoc d;
	assert_int_equal(ydoc_load(&d, yaml, strlen(yaml), "t.yaml"), 0);
	yaml_node_t *root = ydoc_root(&d);
	static const char *const allowed[] = { "s", "i", "b", "n", "e", "l", "m", NULL };
	assert_int_equal(ydoc_check_keys(&d, root, allowed), 0);
	char *s = NULL;
	assert_int_equal(ydoc_get_string(&d, root, "s", &s), 1);
	assert_string_equal(s, "hi");
	assert_int_equal(ydoc_get_string(&d, root, "absent", &s), 0);
	assert_string_equal(s, "hi");
	free(s);
	int i = 0;
	assert_int_equal(ydoc_get_int(&d, root, "i", 0, 10, &i), 1);
	assert_int_equal(i, 7);
	assert_int_equal(ydoc_get_int(&d, root, "i", 0, 5, &i), -1);
	assert_int_equal(i, 7);
	bool b = false;
	assert_int_equal(ydoc_get_bool(&d, root, "b", &b), 1);
	assert_true(b);
	double n = 0;
	assert_int_equal(ydoc_get_number(&d, root, "n", &n), 1);
	assert_true(n == -25.0);
	static const char *const names[] = { "one", "two", NULL };
	int e = -1;
	assert_int_equal(ydoc_get_enum(&d, root, "e", names, &e), 1);
	assert_int_equal(e, 1);
	char **v = NULL;
	size_t nv = 0;
	assert_int_equal(ydoc_get_strings(&d, root, "l", &v, &nv), 1);
	assert_int_equal(nv, 2);
	assert_string_equal(v[1], "b");
	ydoc_strings_free(v, nv);
	assert_int_equal(ydoc_get_string(&d, root, "m", &s), -1);
	assert_null(ydoc_require(&d, root, "needed"));
	static const char *const fewer[] = { "s", NULL };
	assert_int_equal(ydoc_check_keys(&d, root, fewer), 6);
	char *where = ydoc_where(&d, ydoc_get(&d, root, "m"));
	assert_string_equal(where, "t.yaml:7:4");
	free(where);
	assert_int_equal(ydoc_problem_count(&d), 9);
	diag_list dl;
	diag_init(&dl);
	ydoc_flush(&d, &dl);
	assert_int_equal(ydoc_problem_count(&d), 9);
	assert_int_equal(dl.n, 9);
	/* sorted by position, the earliest first */
	assert_string_equal(dl.items[0], "t.yaml:1:1: missing required key \"needed\"");
	assert_string_equal(dl.items[1], "t.yaml:2:1: unknown key \"i\", expected one of: s");
	assert_string_equal(dl.items[2], "t.yaml:2:4: invalid value \"7\" for \"i\", it must be an integer from 0 to 5");
	assert_string_equal(dl.items[8], "t.yaml:7:4: \"m\" must be a string, not a mapping");
	diag_free(&dl);
	ydoc_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded_default_parses),
		cmocka_unit_test(test_empty_file_gives_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_listen_parsing),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_bad_enum),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_several_problems_all_reported),
		cmocka_unit_test(test_token_format),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_trusted_proxies),
		cmocka_unit_test(test_destinations),
		cmocka_unit_test(test_destination_mistakes),
		cmocka_unit_test(test_plugins),
		cmocka_unit_test(test_plugin_mistakes),
		cmocka_unit_test(test_first_run_rules),
		cmocka_unit_test(test_alias_bomb_is_refused),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_scalar_kinds),
		cmocka_unit_test(test_show_escapes),
		cmocka_unit_test(test_typed_readers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
