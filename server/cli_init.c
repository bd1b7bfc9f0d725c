/* cli_init: `earshot init [DIR]` — the shortest path from nothing to a configured server: a commented
 * earshot.yaml, two example forms and a fresh admin token (printed once; the file keeps its hash). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

static const char init_help[] =
	"usage: earshot init [DIR]\n"
	"Writes DIR/earshot.yaml (commented; every key optional), example forms in DIR/forms and a new admin\n"
	"token, printed once: the file keeps only its hash. DIR (default: the current directory) is created\n"
	"when missing. An existing earshot.yaml is never overwritten; existing forms are kept.\n";

/* The configuration written; %s is the hex SHA-256 of the admin token. */
static const char config_template[] =
	"# earshot configuration, written by `earshot init`. Every key is optional and has a default; the\n"
	"# keys are described in earshot.yaml(5). Relative paths are relative to this file's directory.\n"
	"# Check it with `earshot check -c earshot.yaml`; run with `earshot serve -c earshot.yaml`.\n"
	"\n"
	"# Where the server listens. public_url, how browsers reach it (the embed line, links), follows\n"
	"# listen unless set; set it when a reverse proxy or TLS sits in front.\n"
	"listen: 127.0.0.1:8080\n"
	"# public_url: https://feedback.example.com\n"
	"\n"
	"database: earshot.db            # SQLite, created on the first start\n"
	"forms_dir: forms                # every *.yaml file in it is a form\n"
	"# static_dir: static            # the widget's files; the installed ones when ./static is missing\n"
	"\n"
	"# The admin API and the dashboard at /admin accept the token `earshot init` printed: only its\n"
	"# hash is kept here. `earshot token` makes more.\n"
	"admin:\n"
	"  tokens: [\"sha256:%s\"]\n"
	"\n"
	"# Which sites may call the API from the browser (\"*\": every site).\n"
	"# cors:\n"
	"#   allowed_origins: [\"https://shop.example.com\"]\n"
	"\n"
	"# privacy:\n"
	"#   client_ip: hashed           # none | truncated | hashed; never stored in the clear\n"
	"#   retention_days: 0           # 0 keeps answers forever\n"
	"\n"
	"# trusted_proxies: [127.0.0.1]  # a reverse proxy on this host: X-Forwarded-For is read from it\n"
	"\n"
	"# Without a plugins: key the shipped plugins run: nps on every form, complaint-router writing\n"
	"# detractors and complaints to complaints.ndjson, incentive on the newsletter form.\n"
	"# `plugins: []` turns them off; a list names the ones to run (by name, or by the path of a .so):\n"
	"# plugins:\n"
	"#   - name: nps\n"
	"#   - name: complaint-router\n"
	"#     config:\n"
	"#       rules:\n"
	"#         - when: {question: score, lte: 6}\n"
	"#           route: complaints-log\n"
	"# destinations:\n"
	"#   complaints-log:\n"
	"#     type: file\n"
	"#     path: complaints.ndjson\n";

static const char feedback_form[] =
	"# A survey: the widget shows it 20 seconds into a visit, on every page, once per 30 days.\n"
	"id: feedback\n"
	"kind: survey\n"
	"title: A quick question\n"
	"questions:\n"
	"  - id: score\n"
	"    type: nps\n"
	"    label: How likely are you to recommend us to a friend or colleague?\n"
	"    required: true\n"
	"  - id: reason\n"
	"    type: text\n"
	"    label: What is the main reason for your score?\n"
	"    max_length: 1000\n"
	"trigger:\n"
	"  event: delay\n"
	"  delay_seconds: 20\n"
	"  recontact_days: 30\n"
	"thank_you: Thank you for helping us improve.\n";

static const char newsletter_form[] =
	"# A signup form, hosted at /f/newsletter. Every field says why it is asked.\n"
	"id: newsletter\n"
	"kind: signup\n"
	"title: Join our newsletter\n"
	"questions:\n"
	"  - id: email\n"
	"    type: email\n"
	"    label: Email\n"
	"    required: true\n"
	"    why: We send the newsletter here, about once a month, and nothing else.\n"
	"  - id: consent\n"
	"    type: consent\n"
	"    label: I agree to receive the newsletter and can unsubscribe at any time.\n"
	"    required: true\n"
	"thank_you: Thank you! Please check your inbox.\n"
	"# Confirmed signups (double opt-in): uncomment once earshot.yaml lists an email destination\n"
	"# newsletter-mail; the visitor then gets a link to confirm their address.\n"
	"# confirm:\n"
	"#   destination: newsletter-mail\n";

/* Creates dir unless it is already a directory. Returns 0, or -1 with errno set. */
static int ensure_dir(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		errno = ENOTDIR;
		return -1;
	}
	return mkdir(dir, 0755);
}

/* Writes text to a new file path (never replacing one) with mode. Returns 0, or -1 with errno set. */
static int write_new_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -1;
	size_t len = strlen(text), done = 0;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0) {
			int saved = errno;
			close(fd);
			unlink(path);
			errno = saved;
			return -1;
		}
		done += (size_t)n;
	}
	return close(fd);
}

/* Writes one example form unless a file of that name exists. Returns 0, or 1 after a message. */
static int write_form(const char *forms_dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", forms_dir, name);
	int rc = 0;
	if (write_new_file(path, text, 0644) == 0) {
		printf("wrote %s\n", path);
	} else if (errno == EEXIST) {
		printf("kept %s (it exists)\n", path);
	} else {
		fprintf(stderr, "earshot init: cannot write %s: %s\n", path, strerror(errno));
		rc = 1;
	}
	free(path);
	return rc;
}

int cli_init(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(init_help, stdout);
		return 0;
	}
	if (argc > 2)
		return cli_usage_error("init", "unexpected argument");
	if (argc == 2 && argv[1][0] == '-')
		return cli_usage_error("init", "unknown option");
	const char *dir = argc == 2 ? argv[1] : ".";
	if (ensure_dir(dir) != 0) {
		fprintf(stderr, "earshot init: cannot create %s: %s\n", dir, strerror(errno));
		return 1;
	}
	char token[44], hex[65];
	if (cli_new_admin_token(token, hex) != 0) {
		fputs("earshot init: no randomness available\n", stderr);
		return 1;
	}
	char *config_path = xasprintf("%s/earshot.yaml", dir);
	char *config = xasprintf(config_template, hex);
	int rc = 0;
	if (write_new_file(config_path, config, 0640) != 0) {
		if (errno == EEXIST)
			fprintf(stderr, "earshot init: %s exists; not overwriting it\n", config_path);
		else
			fprintf(stderr, "earshot init: cannot write %s: %s\n", config_path, strerror(errno));
		rc = 1;
		goto out;
	}
	printf("wrote %s\n", config_path);
	char *forms_dir = xasprintf("%s/forms", dir);
	if (ensure_dir(forms_dir) != 0) {
		fprintf(stderr, "earshot init: cannot create %s: %s\n", forms_dir, strerror(errno));
		rc = 1;
	} else {
		rc = write_form(forms_dir, "feedback.yaml", feedback_form) | write_form(forms_dir, "newsletter.yaml",
		                                                                       newsletter_form);
	}
	free(forms_dir);
	printf("\nadmin token (shown only now; earshot.yaml keeps its hash):\n    %s\n\n"
	       "next:\n    earshot check -c %s\n    earshot serve -c %s\n", token, config_path, config_path);
out:
	free(config);
	free(config_path);
	return rc;
}
