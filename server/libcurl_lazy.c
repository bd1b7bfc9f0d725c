/* libcurl_lazy: the libcurl functions earshot calls, loading libcurl.so.4 the first time one is
 * needed (lazy_lib.h says why). The delivery worker calls libcurl_load before its first webhook,
 * email or chat message, so a server whose answers never leave the machine never loads it. */
#include <dlfcn.h>
#include <stdarg.h>
#include <string.h>

#include <curl/curl.h>

#include "lazy_lib.h"

/* curl.h may define these as type-checking macros; the definitions below are the functions. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt

/* Every function earshot uses: F(return type, name, parameters, arguments), V for void ones. The
 * three variadic ones are written out below. */
#define LIBCURL_FUNCTIONS(F, V) \
	F(CURLcode, curl_global_init, (long flags), (flags)) \
	F(CURL *, curl_easy_init, (void), ()) \
	V(curl_easy_cleanup, (CURL *curl), (curl)) \
	V(curl_easy_reset, (CURL *curl), (curl)) \
	F(CURLcode, curl_easy_perform, (CURL *curl), (curl)) \
	F(const char *, curl_easy_strerror, (CURLcode code), (code)) \
	F(CURLM *, curl_multi_init, (void), ()) \
	F(CURLMcode, curl_multi_cleanup, (CURLM *multi), (multi)) \
	F(CURLMcode, curl_multi_add_handle, (CURLM *multi, CURL *curl), (multi, curl)) \
	F(CURLMcode, curl_multi_remove_handle, (CURLM *multi, CURL *curl), (multi, curl)) \
	F(CURLMcode, curl_multi_perform, (CURLM *multi, int *running), (multi, running)) \
	F(CURLMcode, curl_multi_poll, (CURLM *multi, struct curl_waitfd extra[], unsigned int n_extra, \
	                               int timeout_ms, int *ret), \
	  (multi, extra, n_extra, timeout_ms, ret)) \
	F(CURLMsg *, curl_multi_info_read, (CURLM *multi, int *left), (multi, left)) \
	F(struct curl_slist *, curl_slist_append, (struct curl_slist *list, const char *text), (list, text)) \
	V(curl_slist_free_all, (struct curl_slist *list), (list))

#define LAZY_TABLE_ENTRY_VARIADIC(name) __typeof__(name) *name;
#define VARIADIC_FUNCTIONS(F) \
	F(curl_easy_setopt) \
	F(curl_easy_getinfo) \
	F(curl_multi_setopt)

static struct {
	LIBCURL_FUNCTIONS(LAZY_TABLE_ENTRY, LAZY_TABLE_ENTRY_VOID)
	VARIADIC_FUNCTIONS(LAZY_TABLE_ENTRY_VARIADIC)
} lazy_table;

static const char *resolve(void *handle)
{
	LIBCURL_FUNCTIONS(LAZY_RESOLVE, LAZY_RESOLVE_VOID)
	VARIADIC_FUNCTIONS(LAZY_RESOLVE_NAME)
	return NULL;
}

static lazy_lib lazy_this = LAZY_LIB_INIT("libcurl.so.4", "EARSHOT_LIBCURL", resolve);

int libcurl_load(const char **error)
{
	return lazy_lib_load(&lazy_this, error);
}

/* Hidden: the executable exports its symbols (-rdynamic, for plugins), and libcurl's calls to its
 * own functions must not come back through these. */
#pragma GCC visibility push(hidden)
LIBCURL_FUNCTIONS(LAZY_SHIM, LAZY_SHIM_VOID)

/* curl_easy_setopt and curl_multi_setopt pass an option's value on with the type the option number
 * says it has, as libcurl reads it: long below CURLOPTTYPE_OBJECTPOINT, then pointers, function
 * pointers, curl_off_t, then blobs (the multi handle's options use the same ranges). */
#define SETOPT_SHIM(ret, name, handle_type, option_type) \
	ret name(handle_type *handle, option_type option, ...) \
	{ \
		lazy_lib_need(&lazy_this); \
		va_list ap; \
		va_start(ap, option); \
		ret rc = option < CURLOPTTYPE_OBJECTPOINT     ? lazy_table.name(handle, option, va_arg(ap, long)) \
		         : option < CURLOPTTYPE_FUNCTIONPOINT ? lazy_table.name(handle, option, va_arg(ap, void *)) \
		         : option < CURLOPTTYPE_OFF_T ? lazy_table.name(handle, option, va_arg(ap, void (*)(void))) \
		         : option < CURLOPTTYPE_BLOB  ? lazy_table.name(handle, option, va_arg(ap, curl_off_t)) \
		                                      : lazy_table.name(handle, option, va_arg(ap, void *)); \
		va_end(ap); \
		return rc; \
	}
SETOPT_SHIM(CURLcode, curl_easy_setopt, CURL, CURLoption)
SETOPT_SHIM(CURLMcode, curl_multi_setopt, CURLM, CURLMoption)

/* Every CURLINFO value is read through a pointer. */
CURLcode curl_easy_getinfo(CURL *curl, CURLINFO info, ...)
{
	lazy_lib_need(&lazy_this);
	va_list ap;
	va_start(ap, info);
	CURLcode rc = lazy_table.curl_easy_getinfo(curl, info, va_arg(ap, void *));
	va_end(ap);
	return rc;
}
#pragma GCC visibility pop
