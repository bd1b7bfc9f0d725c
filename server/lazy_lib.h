/* lazy_lib: a shared library opened with dlopen the first time it is needed, not at start.
 *
 * libpq and libcurl bring about thirty libraries of their own (Kerberos, LDAP, GnuTLS, ...). Linked
 * normally, the dynamic loader maps and relocates all of them before main(), about a quarter of the time
 * from exec to the first answer, although a server on SQLite never uses libpq and one without
 * destinations never uses libcurl. libpq_lazy.c and libcurl_lazy.c define the functions earshot
 * calls, under their own names, as calls through a table this module fills on first use. */
#ifndef EARSHOT_LAZY_LIB_H
#define EARSHOT_LAZY_LIB_H

#include <pthread.h>
#include <stdatomic.h>

typedef struct lazy_lib {
	const char *soname;        /* what dlopen loads unless the environment names another file */
	const char *env;           /* the variable naming another file ("EARSHOT_LIBPQ"), or NULL */
	/* Looks up every function the table holds in handle; returns NULL, or the first name missing. */
	const char *(*resolve)(void *handle);
	pthread_mutex_t mu;
	atomic_int state;          /* LAZY_UNTRIED, LAZY_LOADED or LAZY_FAILED */
	char error[320];           /* why loading failed, once state is LAZY_FAILED */
} lazy_lib;

enum { LAZY_UNTRIED, LAZY_LOADED, LAZY_FAILED };

#define LAZY_LIB_INIT(soname_, env_, resolve_) \
	{ .soname = (soname_), .env = (env_), .resolve = (resolve_), .mu = PTHREAD_MUTEX_INITIALIZER, \
	  .state = LAZY_UNTRIED }

/* Loads the library and fills its table, once per process; later calls return the first outcome.
 * Returns 0, or -1 with *error (borrowed, lives as long as lib) saying which file failed and why. */
int lazy_lib_load(lazy_lib *lib, const char **error);

/* For a function table's entry: loads the library or, when it cannot be loaded, aborts with the reason.
 * The entry points (a PostgreSQL connection, the first delivery) call lazy_lib_load first and report
 * the failure, so this stops only a caller that skipped that check. */
void lazy_lib_need(lazy_lib *lib);

/* Copies dlsym's object pointer into a function pointer of any type (ISO C has no direct cast). */
#define LAZY_SYMBOL(handle, name, slot) \
	do { \
		void *sym_ = dlsym((handle), (name)); \
		memcpy(&(slot), &sym_, sizeof sym_); \
	} while (0)

/* A *_lazy.c file lists the functions it stands in for as LIST(F, V), with F(return type, name,
 * parameters, arguments) and V(name, parameters, arguments) for void ones; names its table of pointers
 * `lazy_table` and its lazy_lib `lazy_this`; and expands the list with these: the table's members, the
 * resolver's lookups (inside a function of a `void *handle` returning the first name missing), and the
 * functions themselves, which load the library on first use and call through the table. */
#define LAZY_TABLE_ENTRY(ret, name, params, args) __typeof__(name) *name;
#define LAZY_TABLE_ENTRY_VOID(name, params, args) __typeof__(name) *name;
#define LAZY_RESOLVE_NAME(name) \
	LAZY_SYMBOL(handle, #name, lazy_table.name); \
	if (!lazy_table.name) \
		return #name;
#define LAZY_RESOLVE(ret, name, params, args) LAZY_RESOLVE_NAME(name)
#define LAZY_RESOLVE_VOID(name, params, args) LAZY_RESOLVE_NAME(name)
#define LAZY_SHIM(ret, name, params, args) \
	ret name params \
	{ \
		lazy_lib_need(&lazy_this); \
		return lazy_table.name args; \
	}
#define LAZY_SHIM_VOID(name, params, args) \
	void name params \
	{ \
		lazy_lib_need(&lazy_this); \
		lazy_table.name args; \
	}

/* The two libraries loaded this way (libpq_lazy.c, libcurl_lazy.c). Each returns 0, or -1 with
 * *error (static) naming the file and the reason. EARSHOT_LIBPQ and EARSHOT_LIBCURL name another file
 * to load instead of libpq.so.5 and libcurl.so.4. */
int libpq_load(const char **error);
int libcurl_load(const char **error);

#endif
