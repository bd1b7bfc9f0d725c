/* routes_hosted: the hosted form pages — GET /f/{form} (the page), POST /f/{form} (its urlencoded
 * submit), GET /f/{form}/thanks?r={id} (the thank-you page with that answer's offers) and
 * GET /f/{form}/token (a timing token for the widget's JSON submits).
 *
 * A submit goes the way of the JSON route — validate, a writer job, the writer's group commit, the
 * done callback on the event loop — after the spam checks: a filled honeypot, a missing or forged
 * timing token, or one younger than limits.min_fill_seconds gets an ordinary-looking 303 to a
 * thank-you page while nothing is stored; a replayed token is caught by the writer inside the
 * answer's transaction and ends the same way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "availability.h"
#include "contacts.h"
#include "i18n.h"
#include "reply.h"
#include "render.h"
#include "routes.h"
#include "spam.h"
#include "util.h"
#include "validate.h"

extern const route hosted_routes[];

/* ---- helpers ------------------------------------------------------------------------------------ */

/* A static file's URL with a version derived from its content ("/static/form.css?v=<16 hex>"), so
 * that browsers may keep it for a year. The hash is kept until the file's size or time changes. */
static const char *asset_url(const server *srv, int which)
{
	static const char *const names[2] = { "form.css", "form.js" };
	static struct {
		char url[96];
		off_t size;
		struct timespec mtime;
		bool known;
	} cache[2];
	char *path = xasprintf("%s/%s", srv->cfg->static_dir, names[which]);
	struct stat sb;
	if (stat(path, &sb) != 0) {
		snprintf(cache[which].url, sizeof cache[which].url, "/static/%s", names[which]);
		cache[which].known = false;
	} else if (!cache[which].known || sb.st_size != cache[which].size ||
	           sb.st_mtim.tv_sec != cache[which].mtime.tv_sec ||
	           sb.st_mtim.tv_nsec != cache[which].mtime.tv_nsec) {
		FILE *fp = fopen(path, "rb");
		char *data = xmalloc((size_t)sb.st_size + 1);
		size_t n = fp ? fread(data, 1, (size_t)sb.st_size, fp) : 0;
		if (fp)
			fclose(fp);
		char hex[65];
		sha256_hex(data, n, hex);
		free(data);
		snprintf(cache[which].url, sizeof cache[which].url, "/static/%s?v=%.16s", names[which], hex);
		cache[which].size = sb.st_size;
		cache[which].mtime = sb.st_mtim;
		cache[which].known = true;
	}
	free(path);
	return cache[which].url;
}

#define CSS_HREF(srv) asset_url(srv, 0)
#define JS_SRC(srv) asset_url(srv, 1)

/* Sends an HTML page (html is freed) with status and the headers of every hosted page: strict CSP,
 * never cached (each page carries its own token or a visitor's answer). */
static void send_page(struct evhttp_request *req, int status, char *html)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Content-Security-Policy", RENDER_PAGE_CSP);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	reply_text(req, status, "text/html; charset=utf-8", html, strlen(html));
	free(html);
}

/* The request's Accept-Language header, or NULL. */
static const char *accept_language(const request *r)
{
	return evhttp_find_header(evhttp_request_get_input_headers(r->req), "Accept-Language");
}

/* The language a page of f is shown in: the best of the form's own language and its translations
 * for the visitor's Accept-Language, the form's own when none fits (borrowed). */
static const char *content_language(const request *r, const form *f)
{
	size_t n = 1 + (f->locales ? json_object_size(f->locales) : 0), i = 1;
	const char **tags = xcalloc(n, sizeof *tags);
	tags[0] = f->locale;
	const char *key;
	json_t *v;
	json_object_foreach(f->locales, key, v)
		tags[i++] = key;
	const char *pick = i18n_pick(accept_language(r), tags, n);
	free(tags);
	return pick ? pick : f->locale;
}

/* The language of the server's own sentences on a page of f (static). */
static const char *chrome_language(const request *r, const form *f)
{
	return i18n_chrome(content_language(r, f), accept_language(r));
}

/* A message page with status, its sentences in the visitor's language (lang NULL: picked from
 * Accept-Language). */
static void send_message(request *r, int status, const char *title, const char *message, const char *lang)
{
	send_page(r->req, status, render_message_page_in(title, message, CSS_HREF(r->srv),
	                                                 lang ? lang : i18n_pick_server(accept_language(r))));
}

/* The 404 page for an unknown or inactive form. */
static void send_not_found(request *r)
{
	send_message(r, 404, "Form not found", "There is no form at this address. It may have been closed.", NULL);
}

/* The 410 page of a form that is closed (schedule, quota). */
static void send_closed(request *r, const form *f, int avail)
{
	const char *why = avail == AVAIL_QUOTA_REACHED ? "This form has received all the answers it needs."
	                  : avail == AVAIL_NOT_STARTED ? "This form is not open yet."
	                                               : "This form is no longer taking answers.";
	send_message(r, 410, "This form is closed", why, chrome_language(r, f));
}

/* Whether f takes answers now; sends the closed page (or a 503) and returns false when not. */
static bool form_open(request *r, const form *f)
{
	char *err = NULL;
	int avail = availability_of(f, r->srv->reader, now_ms(), &err);
	if (avail == AVAIL_OPEN)
		return true;
	if (avail < 0) {
		log_line("form %s: cannot count its answers: %s", f->id, err);
		free(err);
		send_message(r, 503, "Please wait a moment",
		             "Your answer could not be stored, and nothing was kept. Please try again in a moment.", NULL);
		return false;
	}
	send_closed(r, f, avail);
	return false;
}

#define VARIANT_FIELD "_v"

/* A uniformly random number in [0, 1) from the kernel's generator. */
static double random_unit(void)
{
	uint32_t x = 0;
	if (getrandom(&x, sizeof x, 0) != (ssize_t)sizeof x)
		x = (uint32_t)now_ms();
	return (double)x / 4294967296.0;
}

/* The wording variant of f this visitor sees: the one named by the posted field or the cookie
 * "es_v_<form>" when f still has it, else one picked by weight (*fresh set: the caller sends the
 * cookie). Borrowed from f; NULL when f has no variants. */
static const char *visitor_variant(const request *r, const form *f, const json_t *fields, bool *fresh)
{
	*fresh = false;
	if (!f->variants)
		return NULL;
	const char *given = json_string_value(json_object_get(fields, VARIANT_FIELD));
	if (given && form_variant(f, given))
		return json_string_value(json_object_get(form_variant(f, given), "id"));
	const char *cookies = evhttp_find_header(evhttp_request_get_input_headers(r->req), "Cookie");
	char *name = xasprintf("es_v_%s=", f->id);
	const char *at = cookies ? strstr(cookies, name) : NULL;
	if (at && (at == cookies || at[-1] == ' ' || at[-1] == ';')) {
		at += strlen(name);
		char *id = xstrndup(at, strcspn(at, "; "));
		const json_t *v = form_variant(f, id);
		free(id);
		if (v) {
			free(name);
			return json_string_value(json_object_get(v, "id"));
		}
	}
	free(name);
	*fresh = true;
	return form_variant_pick(f, random_unit());
}

/* The form that {form} names when it is active, or NULL. */
static const form *active_form(request *r)
{
	const form *f = routes_find_form(r);
	return f && f->active ? f : NULL;
}

/* Sends the form page with status: values and problems may be NULL; token NULL issues a new one.
 * The page is in the visitor's language, with the visitor's wording variant (kept in a cookie). */
static void send_form(request *r, const form *f, int status, const json_t *values, const json_t *problems,
                      const char *notice, const char *token)
{
	char *fresh = NULL;
	if (!token) {
		token = fresh = spam_token_issue(&r->srv->token_key, f->id, now_ms());
	}
	bool new_variant = false;
	const char *variant = visitor_variant(r, f, values, &new_variant);
	if (variant && new_variant) {
		char *cookie = xasprintf("es_v_%s=%s; Path=/f/%s; Max-Age=31536000; SameSite=Lax", f->id, variant, f->id);
		evhttp_add_header(evhttp_request_get_output_headers(r->req), "Set-Cookie", cookie);
		free(cookie);
	}
	/* The page as first shown counts as a view (not a re-rendered one, nor HEAD). */
	if (status == 200 && r->method == EVHTTP_REQ_GET)
		routes_count_view(r, f, variant,
		                  routes_device_class(evhttp_find_header(evhttp_request_get_input_headers(r->req), "User-Agent")));
	form *view = form_view_new(f, content_language(r, f), variant);
	render_form_args a = {
		.form = view, .values = values, .problems = problems, .notice = notice, .token = token,
		.min_fill_seconds = r->srv->cfg->limits.min_fill_seconds,
		.css_href = CSS_HREF(r->srv), .js_src = JS_SRC(r->srv), .lang = chrome_language(r, f),
		.variant = variant,
	};
	send_page(r->req, status, render_form_page(&a));
	form_view_free(view);
	free(fresh);
}

/* Redirects (303) to the thank-you page of answer id. */
static void send_thanks_redirect(struct evhttp_request *req, const char *form_id, const char *id)
{
	char *location = xasprintf("/f/%s/thanks?r=%s", form_id, id);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Location", location);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
	free(location);
	reply_text(req, 303, "text/plain; charset=utf-8", "", 0);
}

/* Answers a submit caught as spam exactly as a stored one looks — a 303 to a thank-you page — for
 * an id that was never stored. Logs why. */
static void send_decoy(request *r, const form *f, const char *why)
{
	char id[48];
	random_id("r_", id, sizeof id);
	log_line("form %s: a submit was dropped as spam (%s); nothing stored", f->id, why);
	send_thanks_redirect(r->req, f->id, id);
}

/* ---- GET /f/{form} ------------------------------------------------------------------------------ */

/* GET /f/{form}: the page with a fresh timing token, or the 404 page. */
static void handle_form(request *r)
{
	const form *f = active_form(r);
	if (!f) {
		send_not_found(r);
		return;
	}
	if (!form_open(r, f))
		return;
	send_form(r, f, 200, NULL, NULL, NULL, NULL);
}

/* ---- POST /f/{form} ----------------------------------------------------------------------------- */

/* What a submit's done callback needs to answer. */
typedef struct hosted_ctx {
	request r;                   /* only srv and req: the handler's request is gone by then */
	form_registry *reg;          /* a reference keeping form alive */
	const form *form;
	json_t *fields;              /* the visitor's input, kept for a re-rendered page */
	char *token;                 /* owned; the submit's timing token, still unused if not stored */
} hosted_ctx;

/* Called once the writer is done with the answer: 303 to its thank-you page, or the page again. */
static void submit_done(writer_job *job, void *arg)
{
	hosted_ctx *ctx = arg;
	request *r = &ctx->r;
	json_t *body = job->status == 410 || job->status == 422 ? writer_job_body(job) : NULL;
	if (job->status == 410) {
		const char *reason = json_string_value(json_object_get(body, "reason"));
		send_closed(r, ctx->form, reason && strcmp(reason, "quota_reached") == 0 ? AVAIL_QUOTA_REACHED
		                                                                          : AVAIL_ENDED);
	} else if (job->status == 201) {
		if (job->dropped)
			log_line("form %s: a submit was dropped as spam (replayed timing token); nothing stored",
			         ctx->form->id);
		send_thanks_redirect(r->req, ctx->form->id, job->id);
	} else if (job->status == 422) {
		/* A plugin refused the answer: its messages go beside the fields. */
		json_t *fields = json_object_get(body, "fields");
		send_form(r, ctx->form, 422, ctx->fields, fields, NULL, ctx->token);
	} else {
		log_line("answer to %s not stored (status %d)", ctx->form->id, job->status);
		send_form(r, ctx->form, 503, ctx->fields, NULL,
		          "Your answer could not be stored, and nothing was kept. Please try again in a moment.",
		          ctx->token);
	}
	r->srv->pending--;
	writer_job_free(job);
	json_decref(ctx->fields);
	form_registry_unref(ctx->reg);
	free(ctx->token);
	free(ctx);
}

/* True when the request's body is application/x-www-form-urlencoded. */
static bool is_urlencoded(struct evhttp_request *req)
{
	const char *ctype = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	if (!ctype)
		return false;
	size_t n = strcspn(ctype, "; \t");
	return n == 33 && strncasecmp(ctype, "application/x-www-form-urlencoded", n) == 0;
}

/* Takes a token from the per-address bucket; on refusal sends 429 and returns false. */
static bool rate_allowed(request *r)
{
	int retry_after = ratelimit_take(r->srv->submit_limit, r->client, monotonic_ms());
	if (retry_after <= 0)
		return true;
	char secs[16], *msg;
	snprintf(secs, sizeof secs, "%d", retry_after);
	evhttp_add_header(evhttp_request_get_output_headers(r->req), "Retry-After", secs);
	msg = xasprintf("Too many answers came from your address. Please wait %d second%s and send again.",
	                retry_after, retry_after == 1 ? "" : "s");
	send_message(r, 429, "Please wait a moment", msg, NULL);
	free(msg);
	return false;
}

/* Hands a valid answer to the writer; the reply follows in submit_done. Takes normalised and
 * fields; tok is the checked token. */
static void submit_answer(request *r, const form *f, json_t *normalised, json_t *fields, const char *token,
                          const spam_token *tok)
{
	server *srv = r->srv;
	writer_job *job = writer_job_new();
	job->reg = form_registry_ref(srv->forms);
	job->form = f;
	job->answers = normalised;
	char *page = xasprintf("/f/%s", f->id);
	job->meta = json_pack("{s:s, s:s, s:s}", "page", page, "channel", "hosted", "locale", content_language(r, f));
	free(page);
	bool fresh_variant;
	const char *variant = visitor_variant(r, f, fields, &fresh_variant);
	if (variant && !fresh_variant)
		json_object_set_new(job->meta, "variant", json_string(variant));
	job->client = routes_private_client(srv, r->client);
	job->created_ms = now_ms();
	job->token_nonce = xstrdup(tok->nonce);
	job->token_expires_ms = tok->issued_ms + SPAM_TOKEN_LIFETIME_MS;
	hosted_ctx *ctx = xcalloc(1, sizeof *ctx);
	ctx->r = (request){ .srv = srv, .req = r->req };
	ctx->reg = form_registry_ref(srv->forms);
	ctx->form = f;
	ctx->fields = fields;
	ctx->token = xstrdup(token);
	job->done = submit_done;
	job->done_arg = ctx;
	srv->pending++;
	writer_submit(srv->writer, job);
}

/* POST /f/{form}: spam checks, then validation (422 page) or the writer (reply in submit_done). */
static void handle_submit(request *r)
{
	const form *f = active_form(r);
	if (!f) {
		send_not_found(r);
		return;
	}
	if (!is_urlencoded(r->req)) {
		send_message(r, 415, "Unsupported form data", "Send this form as application/x-www-form-urlencoded.", NULL);
		return;
	}
	if (!rate_allowed(r))
		return;
	if (!form_open(r, f))
		return;
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	const char *data = len ? (const char *)evbuffer_pullup(in, (ev_ssize_t)len) : "";
	json_t *fields = render_fields_parse(data, len);

	if (spam_honeypot_filled(fields)) {
		send_decoy(r, f, "honeypot filled");
		json_decref(fields);
		return;
	}
	const json_t *tv = json_object_get(fields, SPAM_TOKEN_FIELD);
	const char *token = json_is_string(tv) ? json_string_value(tv) : NULL;
	spam_token tok;
	spam_verdict verdict = spam_token_check(&r->srv->token_key, token, f->id, now_ms(),
	                                        r->srv->cfg->limits.min_fill_seconds, &tok);
	if (verdict == SPAM_TOKEN_MISSING || verdict == SPAM_TOKEN_FORGED || verdict == SPAM_TOKEN_TOO_FAST) {
		send_decoy(r, f, spam_verdict_name(verdict));
		json_decref(fields);
		return;
	}
	if (verdict == SPAM_TOKEN_EXPIRED) {
		/* A page left open for a day: a person, most likely. Ask again with a fresh token. */
		send_form(r, f, 422, fields, NULL,
		          "This page was open for a long time, so nothing was sent yet. Please check your answers "
		          "and send them again.",
		          NULL);
		json_decref(fields);
		return;
	}

	json_t *answers = validate_answers_from_strings(f, fields);
	json_t *problems = json_object(), *normalised = NULL;
	validate_answers(f, answers, &normalised, problems);
	json_decref(answers);
	if (json_object_size(problems) == 0 && json_object_size(normalised) == 0)
		json_object_set_new(problems, "answers", json_string("must answer at least one question"));
	if (json_object_size(problems) > 0) {
		send_form(r, f, 422, fields, problems, NULL, token);
		json_decref(problems);
		json_decref(normalised);
		json_decref(fields);
		return;
	}
	json_decref(problems);
	submit_answer(r, f, normalised, fields, token, &tok);
}

/* ---- GET /f/{form}/thanks?r={id} ---------------------------------------------------------------- */

/* True when id looks like a response id ("r_" and 26 base32 characters). */
static bool response_id_ok(const char *id)
{
	if (!id || strncmp(id, "r_", 2) != 0 || strlen(id) != 28)
		return false;
	return strspn(id + 2, "abcdefghijklmnopqrstuvwxyz234567") == 26;
}

/* GET /f/{form}/thanks?r={id}: the thank-you text and the offers of that answer only. */
static void handle_thanks(request *r)
{
	const form *f = routes_find_form(r);
	if (!f) {
		send_not_found(r);
		return;
	}
	const char *id = request_query(r, "r");
	json_t *offers = NULL;
	char *err = NULL;
	/* An id that was never stored (a dropped spam submit) shows the plain thank-you. */
	if (response_id_ok(id) && store_offers_for_response(r->srv->reader, id, f->id, &offers, &err) != 0) {
		log_line("thank-you page of %s: %s", f->id, err);
		free(err);
	}
	bool fresh_variant;
	const char *variant = visitor_variant(r, f, NULL, &fresh_variant);
	form *view = form_view_new(f, content_language(r, f), fresh_variant ? NULL : variant);
	send_page(r->req, 200, render_thanks_page_in(view, offers, CSS_HREF(r->srv), chrome_language(r, f)));
	form_view_free(view);
	json_decref(offers);
}

/* ---- GET /f/{form}/token ------------------------------------------------------------------------ */

/* A timing token for the widget, which sends it back as "timing_token" with its JSON submit. */
static void handle_token(request *r)
{
	const form *f = active_form(r);
	if (!f) {
		reply_error(r->req, 404, "unknown_form", "There is no active form with this id.", NULL);
		return;
	}
	char *err = NULL;
	int avail = availability_of(f, r->srv->reader, now_ms(), &err);
	free(err);
	if (avail > AVAIL_OPEN) {
		reply_error(r->req, 410, "form_closed", "This form is no longer taking answers.",
		            json_pack("{s:s}", "reason", availability_reason((availability)avail)));
		return;
	}
	char *token = spam_token_issue(&r->srv->token_key, f->id, now_ms());
	reply_json(r->req, 200, json_pack("{s:s, s:i}", "token", token, "min_fill_seconds",
	                                  r->srv->cfg->limits.min_fill_seconds));
	free(token);
}

const route hosted_routes[] = {
	{ .methods = EVHTTP_REQ_GET, .pattern = "/f/{form}", .handle = handle_form },
	{ .methods = EVHTTP_REQ_POST, .pattern = "/f/{form}", .handle = handle_submit },
	{ .methods = EVHTTP_REQ_GET, .pattern = "/f/{form}/thanks", .handle = handle_thanks },
	{ .methods = EVHTTP_REQ_GET, .pattern = "/f/{form}/token", .handle = handle_token, .flags = ROUTE_CORS },
	{ 0 },
};
