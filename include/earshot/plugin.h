/* earshot/plugin.h — the interface between the earshot server and its plugins.
 *
 * This is the only header a plugin needs. Build a plugin out of tree with
 *     cc -shared -fPIC $(pkg-config --cflags earshot-plugin) my.c -o my.so
 * A plugin never links against the server: everything it may do goes through the host function
 * table (struct earshot_host) it receives in init, and through opaque handles.
 *
 * ABI rules
 *   - EARSHOT_PLUGIN_ABI_MAJOR changes only for changes that break loading; the server refuses a
 *     plugin built for another major.
 *   - Once a version is released it is frozen: any addition after its release bumps
 *     EARSHOT_PLUGIN_ABI_MINOR and gets a dated line below. Structs only grow at their end; hooks
 *     and host functions keep their meaning and their binary signature.
 *   - A plugin built for an older minor keeps loading; one that requires a newer minor than the
 *     server speaks is refused. Every function of the minor a plugin requires is always present.
 *     A plugin may require less than the header it is built with (define
 *     EARSHOT_PLUGIN_REQUIRES_MINOR before including this header) and probe for the functions of
 *     later minors with EARSHOT_HOST_HAS() before calling them.
 *   - Enumeration values below are part of the ABI and are never renumbered.
 *
 * ABI changelog (newest first; one dated line for every change)
 *   2026-12-02  1.2  Added kv_take (remove and return one key-value entry under a prefix; answers
 *                    stored at the same time, on any node, never get the same one nor wait).
 *   2026-12-02  1.1  Added request_kv_get (on_route reads the key-value store), form_count,
 *                    form_id, form_question_count, form_question_id, form_question_type (a form's
 *                    questions from any hook), config_check_keys (unknown keys in a plugin's own
 *                    config) and declare_offers (a plugin that makes offers says so; its forms
 *                    then need a timing token on JSON submits), and response_confirmed (an
 *                    answer's signup confirmation; waiting plugins are called again when it comes). The handle argument of log,
 *                    set_error, last_error, has_destination and config_dir is now honoured (1.0 servers used the hook call in progress on
 *                    the calling thread, which is the same handle for every correct 1.0 plugin).
 *                    log's level is declared as enum earshot_log_level (same binary signature).
 *                    The key-value key "health" and the one-open-query rule, documented before,
 *                    are now stated here. No 1.0 function changed its binary signature.
 *   2026-11-25  1.0  First release: descriptor (size, major, minor, name, version, init, on_response,
 *                    on_route, fini), host table with config, log, response, kv, delivery, route,
 *                    JSON builder, report query functions, parse_time, has_destination and
 *                    config_dir. tests/plugins/abi-v1/ holds this header as released.
 *
 * Which host functions each hook may call (others fail with EARSHOT_ERROR, or return NULL/0)
 *   any hook     log, set_error, last_error, has_destination, config_dir, parse_time, the JSON
 *                builder (new_*, object_set, array_append, json_free), form_count, form_id,
 *                form_question_count, form_question_id, form_question_type, and the config_*
 *                getters on config handles (valid until fini)
 *   init         add_route, config_check_keys, declare_offers
 *   on_response  response_*, question_*, answered_*, answer_*, meta_string, set_score, add_tag,
 *                add_offer, reject, kv_get, kv_put, kv_incr, kv_take, enqueue_delivery,
 *                response_confirmed
 *   on_route     request_method, request_path, path_param, query_param, request_body, reply,
 *                reply_text, reply_error, query_* (one query open at a time), request_kv_get
 *                (read only: writes happen only inside an answer's transaction)
 *   fini         log
 * The response and request functions take the handle of their hook, so the compiler holds a plugin
 * to this table; add_route outside init is refused at run time.
 *
 * Contracts the server keeps with every plugin
 *   - Key-value key "health": a one-line text a plugin stores under its own key "health" (from
 *     on_response) is listed in GET /healthz as a "warnings" entry naming the plugin; the status
 *     stays "ok". Store an empty value to clear it.
 *   - One report query may be open per on_route call; query_open fails while another is open, and
 *     the host closes any query still open when on_route returns.
 */
#ifndef EARSHOT_PLUGIN_H
#define EARSHOT_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Plugin ABI major version: bumped only for changes that are not load-compatible. */
#define EARSHOT_PLUGIN_ABI_MAJOR 1
/** Plugin ABI minor version: bumped for additions at the end of the structs. */
#define EARSHOT_PLUGIN_ABI_MINOR 2

/* The ABI minor version a plugin requires of the server: by default the header's. Define it lower
 * before including this header to load on older servers too (then check EARSHOT_HOST_HAS). */
#ifndef EARSHOT_PLUGIN_REQUIRES_MINOR
#define EARSHOT_PLUGIN_REQUIRES_MINOR EARSHOT_PLUGIN_ABI_MINOR
#endif
#if EARSHOT_PLUGIN_REQUIRES_MINOR > EARSHOT_PLUGIN_ABI_MINOR
#error "EARSHOT_PLUGIN_REQUIRES_MINOR cannot exceed the header's EARSHOT_PLUGIN_ABI_MINOR"
#endif

#if defined(__GNUC__) || defined(__clang__)
#define EARSHOT_PLUGIN_EXPORT __attribute__((visibility("default")))
#define EARSHOT_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#else
#define EARSHOT_PLUGIN_EXPORT
#define EARSHOT_PRINTF(fmt, first)
#endif

/** Return value of hooks and host functions: success. */
#define EARSHOT_OK 0
/** Return value of hooks and host functions: failure (a message is available, see set_error). */
#define EARSHOT_ERROR (-1)

/** Log levels for earshot_host.log. */
enum earshot_log_level {
	EARSHOT_LOG_ERROR = 0,
	EARSHOT_LOG_WARNING = 1,
	EARSHOT_LOG_INFO = 2,
	EARSHOT_LOG_DEBUG = 3
};

/** Type of a configuration value or of an answer, as returned by config_type and answer_type. */
enum earshot_type {
	EARSHOT_TYPE_ABSENT = 0, /**< no such key / question not answered */
	EARSHOT_TYPE_NULL = 1,
	EARSHOT_TYPE_BOOL = 2,
	EARSHOT_TYPE_INT = 3,    /**< a whole number */
	EARSHOT_TYPE_NUMBER = 4, /**< a number with a fraction */
	EARSHOT_TYPE_STRING = 5,
	EARSHOT_TYPE_LIST = 6,
	EARSHOT_TYPE_MAP = 7
};

/** The plugin's `config:` mapping (or a node inside it). Owned by the host; valid until fini returns. */
typedef struct earshot_conf earshot_conf;
/** One answer being stored. Owned by the host; valid only during the on_response call. */
typedef struct earshot_response earshot_response;
/** One admin request to a route the plugin registered. Owned by the host; valid only during on_route. */
typedef struct earshot_request earshot_request;
/** A JSON value under construction for a reply. Owned by the plugin until handed to a function that
 *  takes it (object_set, array_append, reply) or freed with json_free. */
typedef struct earshot_json earshot_json;
/** An open read-only query over stored responses. Owned by the plugin until query_close (the host
 *  closes any left open when on_route returns). */
typedef struct earshot_query earshot_query;

struct earshot_host;

/**
 * The descriptor a plugin exports under the symbol name `earshot_plugin`.
 * Define it with EARSHOT_PLUGIN_REGISTER, which fills struct_size, abi_major and abi_minor.
 *
 * Required: name, and at least one of on_response and on_route. init and fini are optional.
 *
 * Threads: init and fini run alone. on_response calls run one at a time on the server's writer
 * thread; on_route calls run one at a time on the event loop thread; an on_response and an on_route
 * of the same plugin may run at the same time, so treat what init built as read-only in both (keep
 * per-answer state in the key-value store). Hooks must not block: no network calls, no sleeping.
 */
struct earshot_plugin {
	/** sizeof(struct earshot_plugin) as the plugin was compiled (filled by the macro). */
	uint32_t struct_size;
	/** EARSHOT_PLUGIN_ABI_MAJOR the plugin was compiled against (filled by the macro). */
	uint16_t abi_major;
	/** The lowest ABI minor the plugin works with: EARSHOT_PLUGIN_REQUIRES_MINOR, by default the
	 *  header's EARSHOT_PLUGIN_ABI_MINOR (filled by the macro). */
	uint16_t abi_minor;
	/** Short name, e.g. "nps"; static string owned by the plugin. Required. */
	const char *name;
	/** The plugin's own version, e.g. "1.2.0"; static string owned by the plugin; may be NULL. */
	const char *version;

	/**
	 * Called once at load (at `earshot check`, at start and on reload) with the plugin's `config:`
	 * mapping. Validate the config here; to refuse it, call host->set_error(config, "...") and
	 * return EARSHOT_ERROR: the server then reports `plugin NAME: message` and does not start.
	 * Register admin routes here with host->add_route.
	 * @param host   the host function table; owned by the host, valid until fini returns (keep it).
	 * @param config the `config:` mapping; owned by the host, valid until fini returns.
	 * @param state  out: any pointer the plugin wants back in later hooks; owned by the plugin.
	 * @return EARSHOT_OK or EARSHOT_ERROR.
	 */
	int (*init)(const struct earshot_host *host, const earshot_conf *config, void **state);

	/**
	 * Called for each valid answer to a form the plugin is enabled for (`forms:` globs), inside the
	 * database transaction that stores it: everything it writes is committed with the answer or not
	 * at all. May read answers and meta, set a score, add tags, attach an offer, use the key-value
	 * store, enqueue a delivery, or refuse the answer with host->reject (the visitor gets 422).
	 * @param state    what init stored; owned by the plugin.
	 * @param response the answer; owned by the host, valid during this call only.
	 * @return EARSHOT_OK (the answer is kept unless reject was called), or EARSHOT_ERROR for an
	 *         internal failure (nothing is stored and the visitor gets 503; set a message first).
	 */
	int (*on_response)(void *state, earshot_response *response);

	/**
	 * Called for an admin request (bearer token already checked) matching a route the plugin
	 * registered. Must answer with exactly one of reply, reply_text or reply_error.
	 * @param state   what init stored; owned by the plugin.
	 * @param request the request; owned by the host, valid during this call only.
	 * @return EARSHOT_OK, or EARSHOT_ERROR (the client gets 500 unless a reply was already made).
	 */
	int (*on_route)(void *state, earshot_request *request);

	/**
	 * Called once at shutdown or when a reload replaces the plugin; frees what the plugin owns.
	 * Not called when init failed.
	 * @param state what init stored; ownership returns to the plugin, which frees it.
	 */
	void (*fini)(void *state);
};

/**
 * Defines and exports the descriptor `earshot_plugin` from designated initializers, filling its
 * size and ABI version. Use it once per plugin, at file scope:
 *
 *     EARSHOT_PLUGIN_REGISTER(.name = "hello", .version = "1.0", .on_response = hello_response);
 */
#define EARSHOT_PLUGIN_REGISTER(...)                                              \
	EARSHOT_PLUGIN_EXPORT extern const struct earshot_plugin earshot_plugin;  \
	EARSHOT_PLUGIN_EXPORT const struct earshot_plugin earshot_plugin = {      \
		.struct_size = (uint32_t)sizeof(struct earshot_plugin),           \
		.abi_major = EARSHOT_PLUGIN_ABI_MAJOR,                            \
		.abi_minor = EARSHOT_PLUGIN_REQUIRES_MINOR,                       \
		__VA_ARGS__                                                       \
	}

/**
 * True when the running server's table has the member `fn`. Needed only for a function added in a
 * later minor than the plugin requires (EARSHOT_PLUGIN_REQUIRES_MINOR): the functions of the minor
 * it requires are always present.
 */
#define EARSHOT_HOST_HAS(host, fn)                                                        \
	((host)->size >= offsetof(struct earshot_host, fn) + sizeof((host)->fn) && (host)->fn != NULL)

/**
 * The host function table, handed to init. Owned by the host; valid until fini returns.
 * New functions are only ever appended at the end (check `size`, or use EARSHOT_HOST_HAS).
 *
 * Strings returned by the host are owned by the host and stay valid for as long as the handle they
 * were read from (config: until fini; response and request: until the hook returns; query row:
 * until the next query_next or query_close), unless stated otherwise. Strings passed to the host are
 * borrowed: the host copies what it keeps.
 */
struct earshot_host {
	/** sizeof(struct earshot_host) in the running server. */
	uint32_t size;
	/** The server's ABI version. */
	uint16_t abi_major;
	uint16_t abi_minor;
	/** The server's version string; owned by the host. */
	const char *server_version;

	/* ---- Log and errors (any hook) ---------------------------------------------------------
	 * `handle` is a config, response or request handle the plugin received (each names the plugin
	 * it was handed to). A hook call has one error message: the one set_error or the last failing
	 * host function left. The message lives in the host's record of that call, not in the handle,
	 * which is why the handle is const. */

	/**
	 * Writes one line to the server log, prefixed with the name of the plugin the handle belongs to.
	 * @param handle a handle of this plugin (borrowed), or NULL for the hook call in progress.
	 * @param level  how serious the line is.
	 * @param fmt    printf format (borrowed).
	 */
	void (*log)(const void *handle, enum earshot_log_level level, const char *fmt, ...) EARSHOT_PRINTF(3, 4);

	/**
	 * Sets the message of the hook call handle belongs to, explaining why the hook returns
	 * EARSHOT_ERROR (init: why the config is refused). The server logs it once, naming the plugin
	 * and the hook. The last call wins; passing last_error(handle) as an argument is fine.
	 * @param handle the response or request handle of the current hook, or a config handle (the
	 *               hook call in progress for this plugin on this thread) (borrowed).
	 * @param fmt    printf format (borrowed).
	 */
	void (*set_error)(const void *handle, const char *fmt, ...) EARSHOT_PRINTF(2, 3);

	/**
	 * The message of the last host function that failed in the hook call handle belongs to (or of
	 * set_error), or NULL.
	 * @param handle a config, response or request handle (borrowed), as for set_error.
	 * @return a string owned by the host, valid until the next failing call in that hook call.
	 */
	const char *(*last_error)(const void *handle);

	/* ---- Configuration (init; config handles stay valid until fini) ---------------------------
	 * `path` names a value below the node: keys separated by dots, a decimal number indexes a list
	 * ("rules.0.route"); NULL or "" is the node itself. Getters return 1 and write *out when the
	 * value exists with the right type, 0 when it is absent (*out untouched, so preset a default),
	 * -1 when it has another type (last_error says which, ready to pass to set_error). */

	/** Type of the value at path (EARSHOT_TYPE_ABSENT when missing). path: borrowed. */
	int (*config_type)(const earshot_conf *config, const char *path);
	/** String at path. path: borrowed; *out: owned by the host. */
	int (*config_string)(const earshot_conf *config, const char *path, const char **out);
	/** Whole number at path. path: borrowed. */
	int (*config_int)(const earshot_conf *config, const char *path, int64_t *out);
	/** Number (whole or not) at path. path: borrowed. */
	int (*config_number)(const earshot_conf *config, const char *path, double *out);
	/** true/false at path, as 1/0. path: borrowed. */
	int (*config_bool)(const earshot_conf *config, const char *path, int *out);
	/** Number of items of the list, or of keys of the mapping, at path; 0 for anything else.
	 *  path: borrowed. */
	size_t (*config_length)(const earshot_conf *config, const char *path);
	/** The node at path (a mapping, list or scalar), or NULL when absent. path: borrowed; the node
	 *  is owned by the host. */
	const earshot_conf *(*config_node)(const earshot_conf *config, const char *path);
	/** Item `index` of the list at path, or the value of key number `index` of the mapping at path,
	 *  or NULL. path: borrowed; the node is owned by the host. */
	const earshot_conf *(*config_item)(const earshot_conf *config, const char *path, size_t index);
	/** Name of key number `index` of the mapping at path, or NULL. path: borrowed; the name is owned
	 *  by the host. */
	const char *(*config_key)(const earshot_conf *config, const char *path, size_t index);

	/**
	 * Registers an admin route served by on_route (init only). pattern is a path whose segments
	 * may be `{name}` placeholders matching one segment (read with path_param), e.g.
	 * "/api/v1/forms/{form}/nps". A `{form}` placeholder restricts the route to forms the plugin is
	 * enabled for (others get 404 not_enabled). Returns EARSHOT_OK, or EARSHOT_ERROR when the pattern
	 * is malformed or another plugin already serves it.
	 * @param config the handle init received (borrowed).
	 * @param method "GET", "POST", "PUT", "PATCH" or "DELETE" (borrowed).
	 * @param pattern the path pattern (borrowed; copied).
	 */
	int (*add_route)(const earshot_conf *config, const char *method, const char *pattern);

	/* ---- The answer being stored (on_response) ------------------------------------------------ */

	/** The new response's id ("r_…"). Returned string owned by the host. */
	const char *(*response_id)(const earshot_response *response);
	/** The form id. Returned string owned by the host. */
	const char *(*response_form)(const earshot_response *response);
	/** When the answer was received, in milliseconds since the Unix epoch (UTC). */
	int64_t (*response_created_ms)(const earshot_response *response);
	/** Number of questions of the form. */
	size_t (*question_count)(const earshot_response *response);
	/** Id of question `index` in form order, or NULL. Returned string owned by the host. */
	const char *(*question_id)(const earshot_response *response, size_t index);
	/** Type of question id as written in the form file ("nps", "email", …), or NULL when the form
	 *  has no such question. id: borrowed; returned string owned by the host. */
	const char *(*question_type)(const earshot_response *response, const char *id);
	/** Number of answered questions. */
	size_t (*answered_count)(const earshot_response *response);
	/** Id of answered question `index` (form order), or NULL. Returned string owned by the host. */
	const char *(*answered_id)(const earshot_response *response, size_t index);
	/** JSON type of the answer to question id (EARSHOT_TYPE_ABSENT when unanswered). id: borrowed. */
	int (*answer_type)(const earshot_response *response, const char *id);
	/** The answer when it is a string, else NULL. id: borrowed; returned string owned by the host. */
	const char *(*answer_string)(const earshot_response *response, const char *id);
	/** The answer when it is a number: returns 1 and *out, else 0. id: borrowed. */
	int (*answer_number)(const earshot_response *response, const char *id, double *out);
	/** The answer when it is true/false: returns 1 and *out (1/0), else 0. id: borrowed. */
	int (*answer_bool)(const earshot_response *response, const char *id, int *out);
	/** Number of items when the answer is a list (multi_choice), else 0. id: borrowed. */
	size_t (*answer_array_length)(const earshot_response *response, const char *id);
	/** Item `index` of a list answer when it is a string, else NULL. id: borrowed; returned string
	 *  owned by the host. */
	const char *(*answer_array_item)(const earshot_response *response, const char *id, size_t index);
	/** Any answer as text: strings as given, numbers in decimal, true/false, lists joined with "; ";
	 *  NULL when unanswered. id: borrowed; returned string owned by the host. */
	const char *(*answer_text)(const earshot_response *response, const char *id);
	/** The string value of meta key (e.g. "page", "locale"), or NULL. key: borrowed; returned string
	 *  owned by the host. */
	const char *(*meta_string)(const earshot_response *response, const char *key);

	/**
	 * Sets score[name] = value in the answer's score (returned in the 201 and stored), and
	 * score.category = category when category is not NULL. Whole numbers are stored as integers.
	 * name, category: borrowed (copied). Returns EARSHOT_OK, or EARSHOT_ERROR when name is NULL,
	 * empty or "category", or value is not finite.
	 */
	int (*set_score)(earshot_response *response, const char *name, double value, const char *category);
	/** Adds tag (stored with the answer; duplicates are ignored). tag: borrowed (copied). */
	int (*add_tag)(earshot_response *response, const char *tag);
	/** Attaches an offer {"text","code"} shown to the visitor. text, code: borrowed (copied); code
	 *  may be NULL. */
	int (*add_offer)(earshot_response *response, const char *text, const char *code);
	/**
	 * Refuses the answer: after on_response returns, nothing is stored (everything written in this
	 * transaction is rolled back, the key-value store included), later plugins do not run, and the
	 * visitor gets 422 with fields[question_id] = message. May be called for several fields.
	 * question_id, message: borrowed (copied).
	 */
	int (*reject)(earshot_response *response, const char *question_id, const char *message);

	/** Reads key from the plugin's private key-value store, inside the answer's transaction (see
	 *  request_kv_get for on_route; the key "health" is shown by GET /healthz): returns
	 *  1 with *value and *len (owned by the host, valid during this call; NUL-terminated for
	 *  convenience), 0 when absent, -1 on error. key: borrowed. */
	int (*kv_get)(earshot_response *response, const char *key, const void **value, size_t *len);
	/** Stores value under key (same transaction). key, value: borrowed (copied). */
	int (*kv_put)(earshot_response *response, const char *key, const void *value, size_t len);
	/** Adds delta to the whole number under key (absent counts as 0) and returns the new value in
	 *  *result (same transaction). key: borrowed. */
	int (*kv_incr)(earshot_response *response, const char *key, int64_t delta, int64_t *result);

	/**
	 * Queues a delivery of this answer to the destination named in earshot.yaml, committed with
	 * the answer and sent later from the durable outbox. The document sent is
	 * {"type": type, "id", "form", "response": {…}} plus the members of extra_json (a JSON object
	 * text, or NULL). Returns EARSHOT_ERROR (last_error "outbox not available") on a server built
	 * without an outbox, or when the destination is unknown or extra_json is not an object.
	 * destination, type, extra_json: borrowed (copied).
	 */
	int (*enqueue_delivery)(earshot_response *response, const char *destination, const char *type,
	                        const char *extra_json);

	/* ---- Admin routes (on_route) ------------------------------------------------------------- */

	/** The request method ("GET", …). Returned string owned by the host. */
	const char *(*request_method)(const earshot_request *request);
	/** The decoded request path. Returned string owned by the host. */
	const char *(*request_path)(const earshot_request *request);
	/** The value of the pattern's {name} segment, or NULL. name: borrowed; returned string owned by
	 *  the host. */
	const char *(*path_param)(const earshot_request *request, const char *name);
	/** The decoded value of query parameter name (the first when repeated), or NULL when absent.
	 *  name: borrowed; returned string owned by the host. */
	const char *(*query_param)(const earshot_request *request, const char *name);
	/** The request body and its length (empty when none). Returned bytes owned by the host. */
	const char *(*request_body)(const earshot_request *request, size_t *len);

	/** Answers with status and the JSON value body. body: ownership passes to the host (even on
	 *  failure). Returns EARSHOT_ERROR when a reply was already made or body is NULL. */
	int (*reply)(earshot_request *request, int status, earshot_json *body);
	/** Answers with status and a JSON text the plugin built. json_text: borrowed (copied). Returns
	 *  EARSHOT_ERROR when it is not valid JSON or a reply was already made. */
	int (*reply_text)(earshot_request *request, int status, const char *json_text);
	/** Answers with status and {"error": code, "message": message}. code, message: borrowed. */
	int (*reply_error)(earshot_request *request, int status, const char *code, const char *message);

	/* JSON builder. Every new_* returns a value owned by the plugin (NULL only for a NULL string or
	 * a number that is not finite). */
	earshot_json *(*new_object)(void);
	earshot_json *(*new_array)(void);
	/** s: borrowed (copied); must be UTF-8. */
	earshot_json *(*new_string)(const char *s);
	earshot_json *(*new_int)(int64_t v);
	earshot_json *(*new_number)(double v);
	earshot_json *(*new_bool)(int v);
	earshot_json *(*new_null)(void);
	/** Sets object[key] = value. key: borrowed (copied); value: ownership passes to object (even on
	 *  failure). */
	int (*object_set)(earshot_json *object, const char *key, earshot_json *value);
	/** Appends value to array. value: ownership passes to array (even on failure). */
	int (*array_append)(earshot_json *array, earshot_json *value);
	/** Frees a value the plugin still owns. */
	void (*json_free)(earshot_json *value);

	/**
	 * Opens a read-only query over the stored responses of form with since_ms <= created < until_ms
	 * (INT64_MIN / INT64_MAX for no bound), oldest first, read from one snapshot without blocking
	 * answers being stored. The plugin must be enabled for form. One query may be open at a time:
	 * close it before opening the next (the host closes one left open when on_route returns).
	 * Returns NULL on error (last_error on the request says why). request: borrowed; form:
	 * borrowed; the query: owned by the plugin until query_close.
	 */
	earshot_query *(*query_open)(earshot_request *request, const char *form, int64_t since_ms,
	                             int64_t until_ms);
	/** Advances to the next response: 1 when there is one, 0 at the end, -1 on error. */
	int (*query_next)(earshot_query *query);
	/** The current response's id. Returned string owned by the host (valid until query_next). */
	const char *(*query_response_id)(const earshot_query *query);
	/** The current response's creation time in ms since the epoch (UTC). */
	int64_t (*query_created_ms)(const earshot_query *query);
	/** score[name] of the current response: 1 and *out when it is a number, else 0. name:
	 *  borrowed. */
	int (*query_score)(const earshot_query *query, const char *name, double *out);
	/** score.category of the current response, or NULL. Returned string owned by the host. */
	const char *(*query_category)(const earshot_query *query);
	/** The answer to question id as text (as answer_text), or NULL. id: borrowed; returned string
	 *  owned by the host (valid until query_next). */
	const char *(*query_answer_text)(const earshot_query *query, const char *id);
	/** The answer to question id when it is a number: 1 and *out, else 0. id: borrowed. */
	int (*query_answer_number)(const earshot_query *query, const char *id, double *out);
	/** Closes the query. query: ownership returns to the host. */
	void (*query_close)(earshot_query *query);

	/* ---- Utilities --------------------------------------------------------------------------- */

	/** Parses an ISO-8601 date ("2026-11-24", midnight UTC) or date-time ("2026-11-24T10:00:00Z",
	 *  optional fraction and "+hh:mm" offset) into ms since the epoch. text: borrowed. Returns
	 *  EARSHOT_OK or EARSHOT_ERROR. */
	int (*parse_time)(const char *text, int64_t *ms);

	/* ---- Destinations and paths (any hook) --------------------------------------------------- */

	/**
	 * Whether the earshot.yaml the plugin (named by handle) was loaded with defines a destination
	 * called name, the target of enqueue_delivery — so that init can refuse a config naming an
	 * unknown one at start.
	 * @param handle a config, response or request handle of this plugin (borrowed).
	 * @param name   the destination's name (borrowed).
	 * @return 1 when it exists, 0 when not (or name is NULL).
	 */
	int (*has_destination)(const void *handle, const char *name);
	/**
	 * The directory of the configuration file the plugin was loaded from ("." for the embedded
	 * default), against which a plugin resolves relative paths in its config, as the server does
	 * for its own.
	 * @param handle a config, response or request handle of this plugin (borrowed).
	 * @return the directory (owned by the host, valid while the plugin is loaded).
	 */
	const char *(*config_dir)(const void *handle);

	/* ---- Added in 1.1 -------------------------------------------------------------------------
	 * A plugin requiring 1.1 calls these directly; one requiring 1.0 checks EARSHOT_HOST_HAS first. */

	/**
	 * Reads key from the plugin's key-value store from on_route (read only), as committed by the
	 * answers stored so far. Same results as kv_get: 1 with *value and *len (owned by the host,
	 * valid until on_route returns; NUL-terminated for convenience), 0 when absent, -1 on error
	 * (last_error says why). key: borrowed.
	 */
	int (*request_kv_get)(earshot_request *request, const char *key, const void **value, size_t *len);

	/**
	 * Number of forms in service the plugin (named by handle) is enabled for (its `forms:` globs),
	 * and the id of form number index of them (sorted by id), or NULL. In init these are the forms
	 * loaded with the configuration being checked, so a plugin can refuse a config naming a question
	 * that none of its forms has. handle: a config, response or request handle (borrowed); the id is
	 * owned by the host and valid until the hook returns.
	 */
	size_t (*form_count)(const void *handle);
	const char *(*form_id)(const void *handle, size_t index);
	/** Number of questions of form (0 when the plugin does not see such a form). handle, form:
	 *  borrowed. */
	size_t (*form_question_count)(const void *handle, const char *form);
	/** Id of question index of form, in form order, or NULL. handle, form: borrowed; the id is owned
	 *  by the host and valid until the hook returns. */
	const char *(*form_question_id)(const void *handle, const char *form, size_t index);
	/** Type of question id of form as written in the form file ("nps", "email", …), or NULL. handle,
	 *  form, id: borrowed; the type is a static string of the host. */
	const char *(*form_question_type)(const void *handle, const char *form, const char *id);

	/**
	 * Checks that the mapping at path (NULL or "" for the node itself) has no key outside known, a
	 * NULL-terminated list, so that a typo in the plugin's config is refused instead of ignored.
	 * @return EARSHOT_OK (also when path is absent), or EARSHOT_ERROR with last_error set to
	 *         `unknown setting "qestion" in rules.0 (known: question, lte, gte)`, ready for
	 *         set_error; also when the value at path is not a mapping.
	 */
	int (*config_check_keys)(const earshot_conf *config, const char *path, const char *const *known);

	/**
	 * Declares, from init, that this plugin attaches offers (add_offer) to answers of the forms it
	 * is enabled for. The server then treats those forms like signup forms: a JSON submit without a
	 * valid timing token (GET /f/{form}/token) is answered 201 but nothing is stored and no offer is
	 * made, and the widget fetches a token before it shows such a form. A plugin that calls
	 * add_offer without declaring it still works, but bots can then collect its offers.
	 * A plugin requiring 1.0 checks EARSHOT_HOST_HAS(host, declare_offers) first.
	 * @param config the handle init received (borrowed).
	 * @return EARSHOT_OK, or EARSHOT_ERROR when called outside init.
	 */
	int (*declare_offers)(const earshot_conf *config);

	/**
	 * Whether the answer's email address is confirmed, for forms with `confirm:` (double opt-in).
	 * @return 1 in the confirmation call: the visitor opened the emailed link and on_response runs
	 *         again for this same answer, only for the plugins that asked (score, tags and reject are
	 *         ignored then; add_offer, enqueue_delivery and the key-value store work);
	 *         0 when the answer waits for its confirmation: asking registers the plugin, so its
	 *         on_response is called once more when the link is opened;
	 *         -1 when the answer asks no confirmation (its form has no `confirm:`, or no address).
	 * @param response the answer being stored (borrowed).
	 */
	int (*response_confirmed)(earshot_response *response);

	/* ---- Added in 1.2 -------------------------------------------------------------------------
	 * A plugin requiring 1.2 calls it directly; one requiring less checks EARSHOT_HOST_HAS first. */

	/**
	 * Removes one entry of the plugin's key-value store whose key starts with prefix and returns it,
	 * inside the answer's transaction (a refused or failed answer puts it back): a pool of things to
	 * hand out once each, such as coupon codes. Of the entries no other answer in progress holds, the
	 * first in byte order of the keys is taken; answers being stored at the same time (on other
	 * earshot nodes sharing a PostgreSQL) never get the same entry and never wait for each other.
	 * kv_get, kv_put and kv_incr, by contrast, make answers touching the same key take turns.
	 * @param response the answer being stored (borrowed).
	 * @param prefix   the keys' common beginning ("" for any key; borrowed).
	 * @param key      receives the key taken (owned by the host, valid during this call).
	 * @param value    receives its value (owned by the host, valid during this call; NUL-terminated
	 *                 for convenience), and len its length.
	 * @return 1 with key, value and len; 0 when no such entry is free; -1 on error (last_error).
	 */
	int (*kv_take)(earshot_response *response, const char *prefix, const char **key, const void **value,
	               size_t *len);
};

#ifdef __cplusplus
}
#endif

#endif
