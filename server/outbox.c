/* outbox: queueing deliveries inside the answer's transaction, the retry schedule, and the delivery
 * worker — one thread with its own SQLite connection, woken by outbox_notify() when the writer queues
 * rows and otherwise by the next due time. The worker takes due rows a batch at a time, sends the
 * batch's webhooks in parallel over one libcurl multi handle (other kinds one after another through
 * send_once) and records the batch's outcomes in one transaction. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "build-config.h"
#include "deliver.h"
#include "inbox.h"
#include "lazy_lib.h"
#include "log.h"
#include "outbox.h"
#include "util.h"
#include "webhook_sign.h"

#define DEFAULT_BACKOFF_MS INT64_C(10000)
#define MAX_BACKOFF_MS INT64_C(3600000)
#define DEFAULT_IDLE_POLL_MS INT64_C(1000)
#define DEFAULT_STOP_GRACE_MS INT64_C(3000)
/* After a notify, the worker looks every FAST_POLL_MS for FAST_WINDOW_MS: the rows become visible
 * when the writer commits, a few milliseconds after they were queued. */
#define FAST_POLL_MS INT64_C(15)
#define FAST_WINDOW_MS INT64_C(2000)
/* Due rows taken per query; their outcomes are recorded in one transaction. */
#define DUE_BATCH 64
/* Webhook requests in flight at once (the multi handle keeps a connection per slot alive). */
#define PARALLEL_SENDS 16
/* Delivered rows are kept this long for the admin listing, then purged (they may hold contacts). */
#define DELIVERED_KEEP_MS (INT64_C(30) * 86400000)
#define PURGE_EVERY_MS INT64_C(3600000)

/* ---- Waking the workers --------------------------------------------------------------------------
 * One process-wide generation counter: the writer thread bumps it when it queues rows; every worker
 * remembers the value it last saw. Process-wide because the enqueue side (a plugin host function)
 * is set up before the worker exists. */

static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cv;
static pthread_once_t wake_once = PTHREAD_ONCE_INIT;
static uint64_t wake_gen;

/* Initialises the condition variable on the monotonic clock (once). */
static void wake_init(void)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&wake_cv, &attr);
	pthread_condattr_destroy(&attr);
}

/* Bumps the generation and wakes every waiting worker. */
void outbox_notify(void)
{
	pthread_once(&wake_once, wake_init);
	pthread_mutex_lock(&wake_mu);
	wake_gen++;
	pthread_cond_broadcast(&wake_cv);
	pthread_mutex_unlock(&wake_mu);
}

/* ---- Enqueue ------------------------------------------------------------------------------------- */

/* Hands msg (malloc'd) to *err, or frees it when the caller passed no err. */
static void set_err(char **err, char *msg)
{
	if (err)
		*err = msg;
	else
		free(msg);
}

/* {"type","id","form","response"} plus extra's members; NULL with *err for a reserved key. */
json_t *outbox_document(const writer_job *job, const char *delivery_id, const char *type,
                        const json_t *extra, char **err)
{
	static const char *const reserved[] = { "type", "id", "form", "response" };
	const char *key;
	json_t *value;
	json_object_foreach((json_t *)extra, key, value) {
		for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++) {
			if (strcmp(key, reserved[i]) == 0) {
				set_err(err, xasprintf("enqueue_delivery: extra_json must not set \"%s\" (the host "
				                       "fills it)", key));
				return NULL;
			}
		}
	}
	/* The record only lends the job's values to response_record_to_json, which takes references. */
	response_record r;
	memset(&r, 0, sizeof r);
	snprintf(r.id, sizeof r.id, "%s", job->id);
	snprintf(r.form, sizeof r.form, "%s", job->form && job->form->id ? job->form->id : "");
	r.created_ms = job->created_ms;
	r.answers = job->answers;
	r.meta = job->meta;
	r.score = job->score;
	r.tags = job->tags;
	json_t *doc = json_object();
	json_object_set_new(doc, "type", json_string(type));
	json_object_set_new(doc, "id", json_string(delivery_id));
	json_object_set_new(doc, "form", json_string(r.form));
	json_object_set_new(doc, "response", response_record_to_json(&r));
	json_object_foreach((json_t *)extra, key, value)
		json_object_set(doc, key, value);
	return doc;
}

/* Checks the destination and extra, then writes a pending row due now and wakes the workers. */
int outbox_plugin_enqueue(void *arg, store *st, writer_job *job, const char *plugin,
                          const char *dest_name, const char *type, const char *extra_json,
                          char **err)
{
	const earshot_config *cfg = arg;
	const destination *dst = NULL;
	if (!dest_name || !type || !type[0]) {
		set_err(err, xstrdup("enqueue_delivery: a destination and a type are required"));
		return -1;
	}
	if (!cfg || !(dst = config_find_destination(cfg, dest_name))) {
		set_err(err, xasprintf("enqueue_delivery: unknown destination \"%s\" (it is not listed under "
		                       "destinations: in %s)", dest_name, cfg ? cfg->source : "the config"));
		return -1;
	}
	if (job->n_deliveries >= OUTBOX_MAX_PER_ANSWER) {
		set_err(err, xasprintf("enqueue_delivery: this answer already has %u deliveries, the most one "
		                       "answer may queue", (unsigned)OUTBOX_MAX_PER_ANSWER));
		return -1;
	}
	size_t extra_len = extra_json ? strlen(extra_json) : 0;
	if (extra_len > OUTBOX_MAX_DOCUMENT_BYTES) {
		set_err(err, xasprintf("enqueue_delivery: extra_json is %zu bytes, more than the %u one delivery "
		                       "may hold", extra_len, (unsigned)OUTBOX_MAX_DOCUMENT_BYTES));
		return -1;
	}
	json_t *extra = NULL;
	if (extra_json) {
		extra = json_loads(extra_json, 0, NULL);
		if (!json_is_object(extra)) {
			json_decref(extra);
			set_err(err, xstrdup("enqueue_delivery: extra_json must be a JSON object"));
			return -1;
		}
	}
	/* The follow-up inbox item and the human-readable notice of email and chat messages. */
	if (!extra)
		extra = json_object();
	if (inbox_enrich_delivery(st, cfg, dst, job, type, extra, err) != 0) {
		json_decref(extra);
		return -1;
	}
	delivery_record d;
	memset(&d, 0, sizeof d);
	random_id("d_", d.id, sizeof d.id);
	json_t *doc = outbox_document(job, d.id, type, extra, err);
	json_decref(extra);
	if (!doc)
		return -1;
	d.body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!d.body) {
		set_err(err, xstrdup("enqueue_delivery: the document cannot be encoded as JSON"));
		return -1;
	}
	size_t len = strlen(d.body);
	if (len > OUTBOX_MAX_DOCUMENT_BYTES || job->delivery_bytes + len > OUTBOX_MAX_BYTES_PER_ANSWER) {
		set_err(err, len > OUTBOX_MAX_DOCUMENT_BYTES
		                 ? xasprintf("enqueue_delivery: the document is %zu bytes, more than the %u one "
		                             "delivery may hold", len, (unsigned)OUTBOX_MAX_DOCUMENT_BYTES)
		                 : xasprintf("enqueue_delivery: this answer's deliveries would reach %zu bytes, more "
		                             "than the %u one answer may queue", job->delivery_bytes + len,
		                             (unsigned)OUTBOX_MAX_BYTES_PER_ANSWER));
		free(d.body);
		return -1;
	}
	d.destination = xstrdup(dest_name);
	d.type = xstrdup(type);
	d.plugin = plugin ? xstrdup(plugin) : NULL;
	d.response_id = job->id[0] ? xstrdup(job->id) : NULL;
	d.state = DELIVERY_PENDING;
	d.created_ms = d.retry_from_ms = d.next_attempt_ms = now_ms();
	int rc = store_outbox_insert(st, &d, err);
	delivery_record_clear(&d);
	if (rc == 0) {
		job->n_deliveries++;
		job->delivery_bytes += len;
		outbox_notify();
	}
	return rc;
}

/* ---- Retry schedule ------------------------------------------------------------------------------ */

/* 10 s, or the test-only EARSHOT_TEST_BACKOFF_MS when it holds a positive number. */
int64_t outbox_default_backoff_ms(void)
{
	const char *env = getenv("EARSHOT_TEST_BACKOFF_MS");
	if (env && *env) {
		char *end;
		long long v = strtoll(env, &end, 10);
		if (*end == '\0' && v > 0 && v <= MAX_BACKOFF_MS)
			return v;
	}
	return DEFAULT_BACKOFF_MS;
}

/* Ceiling base * 2^(failures-1) capped at one hour; half of it fixed, half jittered. */
int64_t outbox_backoff_ms(int64_t base_ms, int failures, double unit_random)
{
	if (base_ms <= 0)
		base_ms = DEFAULT_BACKOFF_MS;
	if (failures < 1)
		failures = 1;
	int64_t ceiling = base_ms;
	for (int i = 1; i < failures && ceiling < MAX_BACKOFF_MS; i++)
		ceiling *= 2;
	if (ceiling > MAX_BACKOFF_MS)
		ceiling = MAX_BACKOFF_MS;
	if (!(unit_random >= 0.0))
		unit_random = 0.0;
	if (unit_random > 1.0)
		unit_random = 1.0;
	int64_t half = ceiling / 2;
	return ceiling - half + (int64_t)llround((double)half * unit_random);
}

/* Dead once the window is over; otherwise failed, due after the backoff or at the window's end. */
delivery_state outbox_schedule_retry(int attempts, int64_t retry_from_ms, double retry_for_hours,
                                     int64_t now, int64_t base_ms, double unit_random, int64_t *next_ms)
{
	double window = retry_for_hours > 0 ? retry_for_hours * 3600000.0 : 0.0;
	int64_t deadline = window >= 9.0e18 ? INT64_MAX : retry_from_ms + (int64_t)window;
	*next_ms = now;
	if (now >= deadline)
		return DELIVERY_DEAD;
	int64_t next = now + outbox_backoff_ms(base_ms, attempts, unit_random);
	*next_ms = next < deadline ? next : deadline;
	return DELIVERY_FAILED;
}

/* ---- File destination ---------------------------------------------------------------------------- */

/* Fsyncs the directory holding path, so that a file just created survives a crash. */
static void sync_parent_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

/* Writes all of buf to fd, retrying short writes and EINTR. 0, or -1 with errno set. */
static int write_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Appends one line and fsyncs; a failed write or sync is cut back to the previous end. */
int outbox_append_file(const char *path, const char *body, size_t len, char **err)
{
	bool created = false;
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		created = fd >= 0;
		if (fd < 0 && errno == EEXIST)
			fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	}
	if (fd < 0) {
		set_err(err, xasprintf("open %s: %s", path, strerror(errno)));
		return -1;
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0) {
		set_err(err, xasprintf("stat %s: %s", path, strerror(errno)));
		close(fd);
		return -1;
	}
	char *line = xmalloc(len + 1);
	memcpy(line, body, len);
	line[len] = '\n';
	int rc = write_all(fd, line, len + 1);
	const char *what = "write";
	if (rc == 0 && fsync(fd) != 0) {
		rc = -1;
		what = "fsync";
	}
	free(line);
	if (rc != 0) {
		int saved = errno;
		/* Never leave half a line for the retry to follow. */
		if (ftruncate(fd, sb.st_size) == 0)
			fsync(fd);
		set_err(err, xasprintf("%s %s: %s", what, path, strerror(saved)));
		close(fd);
		return -1;
	}
	if (close(fd) != 0) {
		set_err(err, xasprintf("close %s: %s", path, strerror(errno)));
		return -1;
	}
	if (created)
		sync_parent_dir(path);
	return 0;
}

/* ---- The worker ---------------------------------------------------------------------------------- */

struct outbox {
	store *st;                   /* owned; the worker thread's connection */
	/* libcurl's handles, made by the worker thread at its first webhook, email or chat message
	 * (curl_ready); all NULL until then. */
	CURL *curl;                  /* owned; blocking sends (send_once), worker thread only */
	CURLM *multi;                /* owned; parallel webhook sends, worker thread only */
	CURL *slots[PARALLEL_SENDS]; /* owned; the easy handles the multi handle runs */
	pthread_t thread;
	pthread_mutex_t dest_mu;     /* guards dests */
	destination *dests;          /* owned copies */
	size_t n_dests;
	atomic_bool stopping;
	_Atomic int64_t abort_at_ms; /* monotonic: a request in flight is abandoned after this */
	outbox_log_fn log;
	void *log_arg;
	int64_t backoff_base_ms;
	int64_t idle_poll_ms;
	int64_t stop_grace_ms;
	/* The worker thread's own: */
	uint64_t seen_gen;
	int64_t fast_until_ms;       /* monotonic */
	int64_t last_purge_ms;       /* monotonic */
	atomic_uint_fast64_t delivered;
	atomic_uint_fast64_t failed;
};

/* A destination as the worker uses it for one attempt: copies, so a reload may swap the table. */
typedef struct dest_view {
	bool found;
	destination d;               /* strings owned */
} dest_view;

/* Writes one log line through the configured logger. */
static void outbox_log(outbox *ob, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outbox_log(outbox *ob, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *line = NULL;
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	if (!line)
		return;
	if (ob->log)
		ob->log(ob->log_arg, line);
	else
		log_line("%s", line);
	free(line);
}

/* Frees the strings of a destination copy. */
static void destination_clear(destination *d)
{
	config_destination_clear(d);
}

/* A deep copy of src into dst. */
static void destination_copy(destination *dst, const destination *src)
{
	config_destination_copy(dst, src);
}

/* Replaces the worker's table with copies of cfg's destinations. */
void outbox_set_destinations(outbox *ob, const earshot_config *cfg)
{
	destination *fresh = xcalloc(cfg->n_destinations ? cfg->n_destinations : 1, sizeof *fresh);
	for (size_t i = 0; i < cfg->n_destinations; i++)
		destination_copy(&fresh[i], &cfg->destinations[i]);
	pthread_mutex_lock(&ob->dest_mu);
	destination *old = ob->dests;
	size_t n_old = ob->n_dests;
	ob->dests = fresh;
	ob->n_dests = cfg->n_destinations;
	pthread_mutex_unlock(&ob->dest_mu);
	for (size_t i = 0; i < n_old; i++)
		destination_clear(&old[i]);
	free(old);
}

/* Copies the destination called name into *v (v->found false when there is none). */
static void dest_lookup(outbox *ob, const char *name, dest_view *v)
{
	memset(v, 0, sizeof *v);
	pthread_mutex_lock(&ob->dest_mu);
	for (size_t i = 0; i < ob->n_dests; i++) {
		if (strcmp(ob->dests[i].name, name) == 0) {
			destination_copy(&v->d, &ob->dests[i]);
			v->found = true;
			break;
		}
	}
	pthread_mutex_unlock(&ob->dest_mu);
}

/* A uniformly distributed number in [0, 1] for jitter. */
static double unit_random(void)
{
	uint32_t r = 0;
	if (random_bytes(&r, sizeof r) != 0)
		r = (uint32_t)rand();
	return (double)r / 4294967295.0;
}

/* libcurl progress: abandons the transfer once a stop's grace period is over. */
static int transfer_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                             curl_off_t ulnow)
{
	outbox *ob = arg;
	return atomic_load(&ob->stopping) && monotonic_ms() >= atomic_load(&ob->abort_at_ms) ? 1 : 0;
}

/* Adds "name: value" to a header list. */
static struct curl_slist *add_header(struct curl_slist *list, const char *name, const char *value)
{
	char *line = xasprintf("%s: %s", name, value);
	struct curl_slist *next = curl_slist_append(list, line);
	free(line);
	return next ? next : list;
}

/* Outcome of one attempt. */
enum attempt_result { ATTEMPT_DELIVERED, ATTEMPT_FAILED, ATTEMPT_ABANDONED };

/* The request headers of one webhook attempt (the signature needs the attempt's timestamp).
 * Returns the list (caller frees), or NULL with *error when the secret is unusable. */
static struct curl_slist *webhook_headers(const destination *dst, const delivery_record *d,
                                          char **error)
{
	int64_t stamp = now_ms() / 1000;
	char stamp_text[24];
	snprintf(stamp_text, sizeof stamp_text, "%lld", (long long)stamp);
	char *signature = NULL;
	if (dst->secret && webhook_sign(dst->secret, d->id, stamp, d->body, strlen(d->body), &signature,
	                                error) != 0)
		return NULL;
	struct curl_slist *h = NULL;
	h = add_header(h, "Content-Type", "application/json");
	h = add_header(h, "User-Agent", "earshot/" PACKAGE_VERSION);
	h = add_header(h, "webhook-id", d->id);
	h = add_header(h, "webhook-timestamp", stamp_text);
	if (signature)
		h = add_header(h, "webhook-signature", signature);
	/* No "Expect: 100-continue" round trip. */
	h = curl_slist_append(h, "Expect:");
	free(signature);
	return h;
}

/* A webhook request being prepared, in flight or finished: its handle and what libcurl fills in. */
typedef struct webhook_transfer {
	CURL *c;                     /* borrowed: ob->curl or one of ob->slots */
	struct curl_slist *headers;  /* owned */
	deliver_post post;           /* what libcurl fills in */
	size_t row;                  /* index of the row in its batch (parallel sends) */
} webhook_transfer;

/* Sets up t->c to POST the document of d to dst. Returns 0, or -1 with *error (secret unusable). */
static int webhook_prepare(outbox *ob, webhook_transfer *t, const destination *dst,
                           const delivery_record *d, char **error)
{
	t->headers = webhook_headers(dst, d, error);
	if (!t->headers)
		return -1;
	deliver_http_post_setup(t->c, &t->post, dst->url, d->body, t->headers, dst->timeout_seconds,
	                        transfer_progress, ob);
	return 0;
}

/* An attempt's result from a sender's DELIVER_* outcome: a transfer cut short by a stop is abandoned
 * (it stays due); one cut short otherwise, or failed without a reason, fails with one. */
static enum attempt_result attempt_of(outbox *ob, int outcome, char **error)
{
	if (outcome == DELIVER_OK)
		return ATTEMPT_DELIVERED;
	if (outcome == DELIVER_ABORTED && atomic_load(&ob->stopping))
		return ATTEMPT_ABANDONED;
	if (!*error)
		*error = xstrdup("transfer aborted");
	return ATTEMPT_FAILED;
}

/* The outcome of a finished transfer whose libcurl result is rc: a 2xx is delivered; anything else
 * fails with *error ("HTTP 503" or libcurl's reason); a transfer cut short by stop is abandoned.
 * Frees the transfer's headers. */
static enum attempt_result webhook_result(outbox *ob, webhook_transfer *t, CURLcode rc, char **error)
{
	curl_slist_free_all(t->headers);
	t->headers = NULL;
	return attempt_of(ob, deliver_http_post_outcome(t->c, &t->post, rc, error), error);
}

/* Frees libcurl's handles, if the worker made them (a worker that never sent over the network never
 * loaded libcurl, and this must not load it either). */
static void curl_handles_free(outbox *ob)
{
	if (!ob->curl && !ob->multi)
		return;
	for (int k = 0; k < PARALLEL_SENDS; k++)
		curl_easy_cleanup(ob->slots[k]);
	curl_multi_cleanup(ob->multi);
	curl_easy_cleanup(ob->curl);
	memset(ob->slots, 0, sizeof ob->slots);
	ob->multi = NULL;
	ob->curl = NULL;
}

/* One-time libcurl set-up, on the first worker thread that needs it. */
static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Loads libcurl and makes the worker's handles, the first time a delivery goes over the network.
 * Returns 0, or -1 with *error (caller frees): the attempt fails and is retried like any other. */
static int curl_ready(outbox *ob, char **error)
{
	if (ob->multi)
		return 0;
	const char *why = NULL;
	if (libcurl_load(&why) != 0) {
		*error = xasprintf("%s (webhooks, email and chat need the Debian package libcurl4)", why);
		return -1;
	}
	static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
	pthread_once(&curl_once, curl_init_once);
	ob->curl = curl_easy_init();
	ob->multi = curl_multi_init();
	bool made = ob->curl && ob->multi;
	for (int k = 0; k < PARALLEL_SENDS; k++)
		made = (ob->slots[k] = curl_easy_init()) != NULL && made;
	if (!made) {
		curl_handles_free(ob);
		*error = xstrdup("libcurl cannot create a handle");
		return -1;
	}
	curl_multi_setopt(ob->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)PARALLEL_SENDS);
	return 0;
}

/* POSTs the document to a webhook destination and waits for the answer (see webhook_result). */
static enum attempt_result send_webhook(outbox *ob, const destination *dst, const delivery_record *d,
                                        char **error)
{
	webhook_transfer t = { .c = ob->curl };
	if (webhook_prepare(ob, &t, dst, d, error) != 0)
		return ATTEMPT_FAILED;
	return webhook_result(ob, &t, curl_easy_perform(t.c), error);
}

/* Makes one attempt at d. Sets *retry_hours to the destination's retry window (24 h for a
 * destination that is not configured) and, on failure, *error (caller frees). */
static enum attempt_result send_once(outbox *ob, const delivery_record *d, double *retry_hours,
                                     char **error)
{
	dest_view v;
	dest_lookup(ob, d->destination, &v);
	enum attempt_result res;
	*retry_hours = v.found ? v.d.retry_for_hours : 24.0;
	if (!v.found) {
		*error = xasprintf("destination \"%s\" is not configured", d->destination);
		res = ATTEMPT_FAILED;
	} else if (v.d.type != DEST_FILE && curl_ready(ob, error) != 0) {
		res = ATTEMPT_FAILED;
	} else if (v.d.type == DEST_WEBHOOK) {
		res = send_webhook(ob, &v.d, d, error);
	} else if (v.d.type == DEST_EMAIL || v.d.type == DEST_CHAT) {
		deliver_ctx ctx = { .curl = ob->curl, .progress = transfer_progress, .progress_arg = ob };
		int rc = v.d.type == DEST_EMAIL ? deliver_smtp(&ctx, &v.d, d, error) : deliver_chat(&ctx, &v.d, d, error);
		res = attempt_of(ob, rc, error);
	} else {
		res = outbox_append_file(v.d.path, d->body, strlen(d->body), error) == 0 ? ATTEMPT_DELIVERED
		                                                                        : ATTEMPT_FAILED;
	}
	destination_clear(&v.d);
	return res;
}

/* Records a successful attempt number `attempts` and logs it. */
static void record_delivered(outbox *ob, const delivery_record *d, int attempts)
{
	char *err = NULL;
	atomic_fetch_add(&ob->delivered, 1);
	if (store_outbox_mark_delivered(ob->st, d->id, attempts, now_ms(), &err) != 0)
		outbox_log(ob, "delivery %s to %s was delivered but cannot be recorded (it will be sent "
		           "again): %s", d->id, d->destination, err);
	else
		outbox_log(ob, "delivery %s (%s) to %s delivered on attempt %d", d->id, d->type, d->destination,
		           attempts);
	free(err);
}

/* Records failed attempt number `attempts` (failed with its next time, or dead) and logs it with
 * the destination, the status and the next attempt. */
static void record_failed(outbox *ob, const delivery_record *d, int attempts, double retry_hours,
                          const char *error)
{
	char *err = NULL, when[32];
	int64_t now = now_ms(), next = now;
	atomic_fetch_add(&ob->failed, 1);
	delivery_state state = outbox_schedule_retry(attempts, d->retry_from_ms, retry_hours, now,
	                                             ob->backoff_base_ms, unit_random(), &next);
	iso8601_format_ms(next, when);
	if (store_outbox_mark_failed(ob->st, d->id, attempts, state, next, error, now, &err) != 0)
		outbox_log(ob, "delivery %s to %s failed (attempt %d): %s; recording it failed too: %s",
		           d->id, d->destination, attempts, error, err);
	else if (state == DELIVERY_DEAD)
		outbox_log(ob, "delivery %s to %s failed (attempt %d): %s; retry_for_hours is over: dead "
		           "(replay with earshot deliveries --retry %s)", d->id, d->destination, attempts,
		           error, d->id);
	else
		outbox_log(ob, "delivery %s to %s failed (attempt %d): %s; next attempt at %s", d->id,
		           d->destination, attempts, error, when);
	free(err);
}

/* The outcome of one attempt in a batch, recorded after the batch is sent. */
typedef struct attempt_outcome {
	bool tried;                  /* false: not attempted (a stop began), the row stays as it was */
	enum attempt_result res;
	double retry_hours;          /* the destination's retry window */
	char *error;                 /* owned; set on failure */
} attempt_outcome;

/* Before a batch's parallel webhooks: when libcurl cannot be had, every webhook row of the batch
 * fails with the reason. Returns true when the webhooks can be sent. */
static bool fail_without_curl(outbox *ob, const delivery_record *rows, size_t n, attempt_outcome *out,
                              const bool *is_webhook)
{
	size_t i = 0;
	while (i < n && !is_webhook[i])
		i++;
	char *error = NULL;
	if (i == n || curl_ready(ob, &error) == 0)
		return true;
	for (; i < n; i++) {
		if (!is_webhook[i])
			continue;
		dest_view v;
		dest_lookup(ob, rows[i].destination, &v);
		out[i].tried = true;
		out[i].res = ATTEMPT_FAILED;
		out[i].retry_hours = v.found ? v.d.retry_for_hours : 24.0;
		out[i].error = xstrdup(error);
		destination_clear(&v.d);
	}
	free(error);
	return false;
}

/* Records one outcome (delivered, failed with its next time or dead; an abandoned or untried row is
 * left as it was) and logs it. */
static void record_outcome(outbox *ob, const delivery_record *d, const attempt_outcome *o)
{
	if (!o->tried)
		return;
	if (o->res == ATTEMPT_ABANDONED)
		outbox_log(ob, "delivery %s to %s abandoned at shutdown; it stays due", d->id, d->destination);
	else if (o->res == ATTEMPT_DELIVERED)
		record_delivered(ob, d, d->attempts + 1);
	else
		record_failed(ob, d, d->attempts + 1, o->retry_hours, o->error ? o->error : "unknown error");
}

/* Starts the next webhook rows of the batch on free slots. *next walks the batch; rows whose
 * destination is not a webhook are skipped here (send_batch sends them through send_once). */
static void start_webhooks(outbox *ob, const delivery_record *rows, size_t n, attempt_outcome *out,
                           const bool *is_webhook, size_t *next, webhook_transfer *t, bool *busy)
{
	for (int k = 0; k < PARALLEL_SENDS && *next < n && !atomic_load(&ob->stopping); k++) {
		if (busy[k])
			continue;
		while (*next < n && !is_webhook[*next])
			(*next)++;
		if (*next >= n)
			return;
		size_t i = (*next)++;
		dest_view v;
		dest_lookup(ob, rows[i].destination, &v);
		out[i].tried = true;
		out[i].retry_hours = v.found ? v.d.retry_for_hours : 24.0;
		t[k].c = ob->slots[k];
		t[k].row = i;
		if (!v.found || v.d.type != DEST_WEBHOOK) {
			/* The table was swapped by a reload meanwhile: send it the ordinary way. */
			destination_clear(&v.d);
			out[i].res = send_once(ob, &rows[i], &out[i].retry_hours, &out[i].error);
			continue;
		}
		if (webhook_prepare(ob, &t[k], &v.d, &rows[i], &out[i].error) != 0) {
			out[i].res = ATTEMPT_FAILED;
		} else if (curl_multi_add_handle(ob->multi, t[k].c) != CURLM_OK) {
			curl_slist_free_all(t[k].headers);
			t[k].headers = NULL;
			out[i].res = ATTEMPT_FAILED;
			out[i].error = xstrdup("libcurl cannot start the request");
		} else {
			busy[k] = true;
		}
		destination_clear(&v.d);
	}
}

/* Sends the webhook rows of a batch, PARALLEL_SENDS at a time, filling out[] for each. */
static void send_webhooks_parallel(outbox *ob, const delivery_record *rows, size_t n, attempt_outcome *out,
                                   const bool *is_webhook)
{
	webhook_transfer t[PARALLEL_SENDS];
	bool busy[PARALLEL_SENDS] = { false };
	int running = 0;
	size_t next = 0;
	memset(t, 0, sizeof t);
	if (!fail_without_curl(ob, rows, n, out, is_webhook))
		return;
	for (;;) {
		start_webhooks(ob, rows, n, out, is_webhook, &next, t, busy);
		bool any = false;
		for (int k = 0; k < PARALLEL_SENDS; k++)
			any = any || busy[k];
		if (!any)
			return;
		curl_multi_perform(ob->multi, &running);
		CURLMsg *msg;
		int left;
		while ((msg = curl_multi_info_read(ob->multi, &left)) != NULL) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			for (int k = 0; k < PARALLEL_SENDS; k++) {
				if (busy[k] && t[k].c == msg->easy_handle) {
					CURLcode rc = msg->data.result;
					curl_multi_remove_handle(ob->multi, t[k].c);
					attempt_outcome *o = &out[t[k].row];
					o->res = webhook_result(ob, &t[k], rc, &o->error);
					busy[k] = false;
					break;
				}
			}
		}
		if (running > 0)
			curl_multi_poll(ob->multi, NULL, 0, 100, NULL);
	}
}

/* Sends a batch of due rows: webhooks in parallel, every other kind one after another through
 * send_once. Fills out[i] for each row attempted before a stop began. */
static void send_batch(outbox *ob, const delivery_record *rows, size_t n, attempt_outcome *out)
{
	bool *is_webhook = xcalloc(n ? n : 1, sizeof *is_webhook);
	for (size_t i = 0; i < n; i++) {
		dest_view v;
		dest_lookup(ob, rows[i].destination, &v);
		is_webhook[i] = v.found && v.d.type == DEST_WEBHOOK;
		destination_clear(&v.d);
	}
	for (size_t i = 0; i < n && !atomic_load(&ob->stopping); i++) {
		if (is_webhook[i])
			continue;
		out[i].tried = true;
		out[i].res = send_once(ob, &rows[i], &out[i].retry_hours, &out[i].error);
	}
	send_webhooks_parallel(ob, rows, n, out, is_webhook);
	free(is_webhook);
}

/* Records a batch's outcomes in one transaction (or row by row when none can be opened). A commit
 * that fails leaves the rows due: they are sent again with the same id (at least once). */
static void record_batch(outbox *ob, const delivery_record *rows, size_t n, const attempt_outcome *out)
{
	char *err = NULL;
	bool txn = store_begin(ob->st, &err) == 0;
	if (!txn) {
		outbox_log(ob, "outbox: %s; recording the outcomes one by one", err);
		free(err);
		err = NULL;
	}
	for (size_t i = 0; i < n; i++)
		record_outcome(ob, &rows[i], &out[i]);
	if (txn && store_commit(ob->st, &err) != 0) {
		store_rollback(ob->st);
		outbox_log(ob, "outbox: recording %zu outcome(s) failed (the deliveries stay due and are sent "
		           "again with the same ids): %s", n, err);
		free(err);
	}
}

/* Sends the rows due now, a batch at a time, until none is left or a stop begins. */
static void send_due(outbox *ob)
{
	for (;;) {
		delivery_record *rows = NULL;
		size_t n = 0;
		char *err = NULL;
		if (store_outbox_due(ob->st, now_ms(), DUE_BATCH, &rows, &n, &err) != 0) {
			outbox_log(ob, "outbox: %s", err);
			free(err);
			return;
		}
		attempt_outcome *out = xcalloc(n ? n : 1, sizeof *out);
		send_batch(ob, rows, n, out);
		record_batch(ob, rows, n, out);
		for (size_t j = 0; j < n; j++) {
			free(out[j].error);
			delivery_record_clear(&rows[j]);
		}
		free(out);
		free(rows);
		if (n < DUE_BATCH || atomic_load(&ob->stopping))
			return;
	}
}

/* Purges delivered rows older than DELIVERED_KEEP_MS, at most once per PURGE_EVERY_MS. */
static void purge_delivered(outbox *ob)
{
	int64_t mono = monotonic_ms();
	if (ob->last_purge_ms && mono - ob->last_purge_ms < PURGE_EVERY_MS)
		return;
	ob->last_purge_ms = mono;
	int64_t deleted = 0;
	char *err = NULL;
	if (store_outbox_purge_delivered(ob->st, now_ms() - DELIVERED_KEEP_MS, &deleted, &err) != 0) {
		outbox_log(ob, "outbox: %s", err);
		free(err);
	}
}

/* How long the worker may sleep: until the next due row, at most the idle poll, and only
 * FAST_POLL_MS right after a notify. */
static int64_t sleep_ms(outbox *ob)
{
	int64_t wait = ob->idle_poll_ms, next = 0;
	char *err = NULL;
	int found = store_outbox_next_due(ob->st, &next, &err);
	free(err);
	if (found == 1) {
		int64_t until = next - now_ms();
		wait = until < wait ? until : wait;
	}
	if (monotonic_ms() < ob->fast_until_ms && wait > FAST_POLL_MS)
		wait = FAST_POLL_MS;
	return wait < 0 ? 0 : wait;
}

/* Sleeps up to wait_ms, or until notified or stopping. A notify opens the fast-poll window. */
static void wait_for_work(outbox *ob, int64_t wait_ms)
{
	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)(wait_ms / 1000);
	deadline.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&wake_mu);
	while (wake_gen == ob->seen_gen && !atomic_load(&ob->stopping) && wait_ms > 0) {
		if (pthread_cond_timedwait(&wake_cv, &wake_mu, &deadline) == ETIMEDOUT)
			break;
	}
	if (wake_gen != ob->seen_gen) {
		ob->seen_gen = wake_gen;
		ob->fast_until_ms = monotonic_ms() + FAST_WINDOW_MS;
	}
	pthread_mutex_unlock(&wake_mu);
}

/* The worker thread: send what is due, then sleep until more may be. */
static void *outbox_main(void *arg)
{
	outbox *ob = arg;
	while (!atomic_load(&ob->stopping)) {
		send_due(ob);
		if (atomic_load(&ob->stopping))
			break;
		purge_delivered(ob);
		wait_for_work(ob, sleep_ms(ob));
	}
	return NULL;
}

/* Frees a worker whose thread has ended or never started: its handles, destinations and itself. */
static void outbox_free(outbox *ob)
{
	curl_handles_free(ob);
	store_close(ob->st);
	for (size_t i = 0; i < ob->n_dests; i++)
		destination_clear(&ob->dests[i]);
	free(ob->dests);
	pthread_mutex_destroy(&ob->dest_mu);
	free(ob);
}

/* Opens the connection, copies the destinations, starts the thread. NULL with *err. */
outbox *outbox_start(const earshot_config *cfg, const outbox_options *opt, char **err)
{
	pthread_once(&wake_once, wake_init);
	outbox *ob = xcalloc(1, sizeof *ob);
	if (store_open(cfg->database, cfg->durability, false, &ob->st, err) != 0) {
		free(ob);
		return NULL;
	}
	ob->log = opt ? opt->log : NULL;
	ob->log_arg = opt ? opt->log_arg : NULL;
	ob->backoff_base_ms = opt && opt->backoff_base_ms > 0 ? opt->backoff_base_ms : outbox_default_backoff_ms();
	ob->idle_poll_ms = opt && opt->idle_poll_ms > 0 ? opt->idle_poll_ms : DEFAULT_IDLE_POLL_MS;
	ob->stop_grace_ms = opt && opt->stop_grace_ms > 0 ? opt->stop_grace_ms : DEFAULT_STOP_GRACE_MS;
	atomic_init(&ob->stopping, false);
	atomic_init(&ob->abort_at_ms, 0);
	atomic_init(&ob->delivered, 0);
	atomic_init(&ob->failed, 0);
	pthread_mutex_init(&ob->dest_mu, NULL);
	outbox_set_destinations(ob, cfg);
	pthread_mutex_lock(&wake_mu);
	ob->seen_gen = wake_gen;
	pthread_mutex_unlock(&wake_mu);
	int rc = pthread_create(&ob->thread, NULL, outbox_main, ob);
	if (rc != 0) {
		set_err(err, xasprintf("start delivery worker: cannot start its thread: %s", strerror(rc)));
		outbox_free(ob);
		return NULL;
	}
	return ob;
}

/* Stops the thread (a request in flight gets the grace period), then frees everything. */
void outbox_stop(outbox *ob)
{
	if (!ob)
		return;
	atomic_store(&ob->abort_at_ms, monotonic_ms() + ob->stop_grace_ms);
	atomic_store(&ob->stopping, true);
	pthread_mutex_lock(&wake_mu);
	pthread_cond_broadcast(&wake_cv);
	pthread_mutex_unlock(&wake_mu);
	pthread_join(ob->thread, NULL);
	outbox_free(ob);
}

/* Deliveries made and failed attempts since start. */
void outbox_stats(const outbox *ob, uint64_t *delivered, uint64_t *failed)
{
	outbox *m = (outbox *)ob;
	if (delivered)
		*delivered = atomic_load(&m->delivered);
	if (failed)
		*failed = atomic_load(&m->failed);
}
