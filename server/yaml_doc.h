/* yaml_doc: a small layer over libyaml's document API for reading configuration files.
 *
 * A ydoc holds one parsed YAML document and the problems found while reading it. Every problem carries
 * the 1-based line and column of the node it is about (libyaml's marks are 0-based). Readers report a
 * problem and carry on, so one pass finds every mistake of a file; ydoc_flush() then hands them to a
 * diag_list sorted by position, as "path:line:col: message".
 *
 * Messages follow nginx's shape:
 *   invalid value "fulll" for "durability", it must be one of: full, normal
 *   unknown key "limts", expected one of: listen, public_url, ...
 *   "limits" must be a mapping, not a sequence
 *   missing required key "title"
 *   duplicate key "listen", first given at line 2
 *   syntax error: mapping values are not allowed in this context
 *
 * Scalars: typed readers accept plain and quoted scalars alike (`scale: "7"` is 7); a plain empty, `~`
 * or `null` value is "missing". ydoc_to_json() follows the YAML 1.2 core schema for plain scalars and
 * keeps quoted ones as strings. */
#ifndef EARSHOT_YAML_DOC_H
#define EARSHOT_YAML_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <yaml.h>

#include "diag.h"

typedef struct ydoc_problem {
	size_t line, col;        /* 1-based */
	size_t seq;              /* order of discovery, to keep the sort stable */
	char *msg;               /* owned */
} ydoc_problem;

typedef struct ydoc {
	yaml_document_t doc;
	bool loaded;             /* doc holds a document that must be deleted */
	char *path;              /* owned display path used in messages */
	ydoc_problem *problems;  /* owned; not yet flushed */
	size_t n_problems, cap_problems;
	size_t n_flushed;        /* problems already moved out by ydoc_flush */
} ydoc;

/* How a plain scalar resolves under the YAML 1.2 core schema (quoted and block scalars are strings). */
typedef enum { YSCALAR_NULL, YSCALAR_BOOL, YSCALAR_INT, YSCALAR_FLOAT, YSCALAR_STRING } yscalar_kind;

/* ---- document ------------------------------------------------------------------------------- */

/* Parses text (len bytes) into d; path names the text in messages (copied). Always initialises d, so
 * ydoc_free() must follow. Returns 0, or -1 after recording a syntax error at libyaml's problem mark
 * (also when the text holds more than one document). An empty text is a document without root. */
int ydoc_load(ydoc *d, const char *text, size_t len, const char *path);
/* Frees the document and any problems not flushed. */
void ydoc_free(ydoc *d);
/* The root node, or NULL for an empty document (or after a syntax error). */
yaml_node_t *ydoc_root(ydoc *d);
/* Node by libyaml index (as found in pairs and items), or NULL. */
yaml_node_t *ydoc_node(ydoc *d, int index);

/* ---- problems ------------------------------------------------------------------------------- */

/* Records a problem at node `at` (NULL: line 1, column 1). */
void ydoc_error(ydoc *d, const yaml_node_t *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records `invalid value "<at's text>" for "<name>", <tail>`; tail is a printf format. */
void ydoc_invalid(ydoc *d, const yaml_node_t *at, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Number of problems recorded so far (flushed ones included). */
size_t ydoc_problem_count(const ydoc *d);
/* Moves the recorded problems into diags as "path:line:col: message", sorted by position. */
void ydoc_flush(ydoc *d, diag_list *diags);
/* 1-based line and column of a node. */
size_t ydoc_line(const yaml_node_t *n);
size_t ydoc_col(const yaml_node_t *n);
/* Returns a malloc'd "path:line:col" for node n (caller frees). */
char *ydoc_where(const ydoc *d, const yaml_node_t *n);
/* Returns a malloc'd copy of s[0..len) fit for a one-line message: quotes, backslashes and control
 * characters escaped, cut after 60 bytes with "..." (caller frees). */
char *ydoc_show(const char *s, size_t len);

/* ---- nodes ---------------------------------------------------------------------------------- */

bool ydoc_is_mapping(const yaml_node_t *n);
bool ydoc_is_sequence(const yaml_node_t *n);
bool ydoc_is_scalar(const yaml_node_t *n);
/* True for a plain empty, `~`, `null`, `Null` or `NULL` scalar. */
bool ydoc_is_null(const yaml_node_t *n);
/* The NUL-terminated text of a scalar (borrowed), or NULL when n is not a scalar. */
const char *ydoc_scalar(const yaml_node_t *n);
/* Core-schema resolution of a scalar (YSCALAR_STRING for quoted and block scalars). */
yscalar_kind ydoc_scalar_kind(const yaml_node_t *n);

/* Mapping pairs and sequence items by position; NULL when out of range or of the wrong kind. */
size_t ydoc_map_size(const yaml_node_t *map);
yaml_node_t *ydoc_map_key(ydoc *d, const yaml_node_t *map, size_t i);
yaml_node_t *ydoc_map_value(ydoc *d, const yaml_node_t *map, size_t i);
size_t ydoc_seq_size(const yaml_node_t *seq);
yaml_node_t *ydoc_seq_item(ydoc *d, const yaml_node_t *seq, size_t i);

/* Checks the keys of a mapping: every key must be a scalar, appear once, and (when allowed is not
 * NULL) be one of the NULL-terminated allowed names. Records a problem for each offender and returns
 * how many there were. */
size_t ydoc_check_keys(ydoc *d, const yaml_node_t *map, const char *const allowed[]);
/* The value node of the first pair with that key, or NULL (also when map is not a mapping). */
yaml_node_t *ydoc_get(ydoc *d, const yaml_node_t *map, const char *key);
/* The key node itself, or NULL; for problems about a key that is present where it is not allowed. */
yaml_node_t *ydoc_get_key(ydoc *d, const yaml_node_t *map, const char *key);
/* The value node of a required key, or NULL after recording `missing required key "<key>"` at map. */
yaml_node_t *ydoc_require(ydoc *d, const yaml_node_t *map, const char *key);

/* ---- typed reading ---------------------------------------------------------------------------
 * ydoc_read_* check node n, the value of key `name` (used in messages), and return 0 with *out set, or
 * -1 after recording a problem (*out untouched). ydoc_get_* look the key up in map first and return
 * 1 when it was read, 0 when absent (*out untouched, so it keeps its default), -1 on a problem. */

/* Records `"<name>" must be a mapping, not ...` unless n is a mapping; returns whether it is. */
bool ydoc_expect_mapping(ydoc *d, const yaml_node_t *n, const char *name);
bool ydoc_expect_sequence(ydoc *d, const yaml_node_t *n, const char *name);

/* Any non-null scalar as a string; *out is replaced (the old value freed) by a malloc'd copy. */
int ydoc_read_string(ydoc *d, const yaml_node_t *n, const char *name, char **out);
/* An integer in [lo, hi] (core schema: decimal, 0x hex, 0o octal). */
int ydoc_read_int(ydoc *d, const yaml_node_t *n, const char *name, int lo, int hi, int *out);
/* true / false (also True, TRUE, False, FALSE). */
int ydoc_read_bool(ydoc *d, const yaml_node_t *n, const char *name, bool *out);
/* A finite number (integer or float). */
int ydoc_read_number(ydoc *d, const yaml_node_t *n, const char *name, double *out);
/* One of the NULL-terminated names; *out is its index. */
int ydoc_read_enum(ydoc *d, const yaml_node_t *n, const char *name, const char *const names[], int *out);
/* A sequence of strings; *out is replaced (old array freed) by a malloc'd array of malloc'd strings. */
int ydoc_read_strings(ydoc *d, const yaml_node_t *n, const char *name, char ***out, size_t *n_out);

int ydoc_get_string(ydoc *d, const yaml_node_t *map, const char *key, char **out);
int ydoc_get_int(ydoc *d, const yaml_node_t *map, const char *key, int lo, int hi, int *out);
int ydoc_get_bool(ydoc *d, const yaml_node_t *map, const char *key, bool *out);
int ydoc_get_number(ydoc *d, const yaml_node_t *map, const char *key, double *out);
int ydoc_get_enum(ydoc *d, const yaml_node_t *map, const char *key, const char *const names[], int *out);
int ydoc_get_strings(ydoc *d, const yaml_node_t *map, const char *key, char ***out, size_t *n_out);

/* Frees an array of strings as made by ydoc_read_strings. */
void ydoc_strings_free(char **v, size_t n);

/* Converts any node to JSON (new reference): mappings to objects (keys as strings), sequences to
 * arrays, plain scalars per the core schema (int, float, true/false, null; .inf and .nan stay strings),
 * quoted and block scalars to strings. Returns NULL after recording a problem (nesting deeper than 64,
 * more than 100000 nodes through aliases, text that is not valid UTF-8). */
json_t *ydoc_to_json(ydoc *d, const yaml_node_t *n);
/* Converts a scalar per the core schema (as ydoc_to_json does); NULL when n is not a scalar. */
json_t *ydoc_scalar_json(const yaml_node_t *n);

#endif
