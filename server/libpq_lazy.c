/* libpq_lazy: the libpq functions earshot calls, loading libpq.so.5 the first time one is needed
 * (lazy_lib.h says why). store_pg.c calls libpq_load before it connects, so a machine without libpq
 * gets a clear error for a postgresql:// database and runs on SQLite without it. */
#include <dlfcn.h>
#include <string.h>

#include <libpq-fe.h>

#include "lazy_lib.h"

/* Every function earshot uses: F(return type, name, parameters, arguments), V for void ones. */
#define LIBPQ_FUNCTIONS(F, V) \
	F(PGconn *, PQconnectdbParams, (const char *const *keywords, const char *const *values, int expand), \
	  (keywords, values, expand)) \
	V(PQfinish, (PGconn *conn), (conn)) \
	V(PQreset, (PGconn *conn), (conn)) \
	F(ConnStatusType, PQstatus, (const PGconn *conn), (conn)) \
	F(PGTransactionStatusType, PQtransactionStatus, (const PGconn *conn), (conn)) \
	F(char *, PQerrorMessage, (const PGconn *conn), (conn)) \
	F(char *, PQdb, (const PGconn *conn), (conn)) \
	F(char *, PQhost, (const PGconn *conn), (conn)) \
	F(int, PQlibVersion, (void), ()) \
	F(PGresult *, PQexec, (PGconn *conn, const char *query), (conn, query)) \
	F(PGresult *, PQexecParams, (PGconn *conn, const char *command, int n, const Oid *types, \
	                             const char *const *values, const int *lengths, const int *formats, \
	                             int result_format), \
	  (conn, command, n, types, values, lengths, formats, result_format)) \
	F(int, PQsendQueryParams, (PGconn *conn, const char *command, int n, const Oid *types, \
	                           const char *const *values, const int *lengths, const int *formats, \
	                           int result_format), \
	  (conn, command, n, types, values, lengths, formats, result_format)) \
	F(PGresult *, PQgetResult, (PGconn *conn), (conn)) \
	F(int, PQenterPipelineMode, (PGconn *conn), (conn)) \
	F(int, PQexitPipelineMode, (PGconn *conn), (conn)) \
	F(int, PQpipelineSync, (PGconn *conn), (conn)) \
	F(PGpipelineStatus, PQpipelineStatus, (const PGconn *conn), (conn)) \
	V(PQclear, (PGresult *res), (res)) \
	F(ExecStatusType, PQresultStatus, (const PGresult *res), (res)) \
	F(char *, PQresultErrorField, (const PGresult *res, int code), (res, code)) \
	F(char *, PQcmdStatus, (PGresult *res), (res)) \
	F(char *, PQcmdTuples, (PGresult *res), (res)) \
	F(int, PQntuples, (const PGresult *res), (res)) \
	F(char *, PQfname, (const PGresult *res, int field), (res, field)) \
	F(char *, PQgetvalue, (const PGresult *res, int row, int field), (res, row, field)) \
	F(int, PQgetisnull, (const PGresult *res, int row, int field), (res, row, field)) \
	F(int, PQgetlength, (const PGresult *res, int row, int field), (res, row, field))

static struct {
	LIBPQ_FUNCTIONS(LAZY_TABLE_ENTRY, LAZY_TABLE_ENTRY_VOID)
} lazy_table;

static const char *resolve(void *handle)
{
	LIBPQ_FUNCTIONS(LAZY_RESOLVE, LAZY_RESOLVE_VOID)
	return NULL;
}

static lazy_lib lazy_this = LAZY_LIB_INIT("libpq.so.5", "EARSHOT_LIBPQ", resolve);

int libpq_load(const char **error)
{
	return lazy_lib_load(&lazy_this, error);
}

/* The functions themselves. Hidden: the executable exports its symbols (-rdynamic, for plugins), and
 * libpq's calls to its own functions must not come back through these. */
#pragma GCC visibility push(hidden)
LIBPQ_FUNCTIONS(LAZY_SHIM, LAZY_SHIM_VOID)
#pragma GCC visibility pop
