/* fuzz: what the fuzz targets share — the libFuzzer entry point, a check that aborts (so that both
 * libFuzzer and the replay driver report it), the fixed form the submit targets validate against,
 * and the properties every validation result must have. */
#ifndef EARSHOT_FUZZ_H
#define EARSHOT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>

#include "form.h"

/* The entry point libFuzzer calls once per input; data is borrowed. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with the failed condition when cond is false: a property violation is a finding. */
#define FUZZ_CHECK(cond)                                                                          \
	do {                                                                                      \
		if (!(cond)) {                                                                    \
			fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

/* The form both submit targets validate against: every question type, branching of every kind.
 * Loaded once on first use and kept for the life of the process (borrowed by callers). */
const form *fuzz_fixture_form(void);

/* Checks one normalised answer (borrowed) given under question id key of f: the question exists,
 * and the value validates again to itself. Aborts otherwise. */
void fuzz_check_answer(const form *f, const char *key, json_t *value);

/* Checks what validate_answers gave for form f: rc is 0 exactly when problems is empty, every
 * problem is a sentence, every normalised answer belongs to a question of f and validates again to
 * itself (normalising is idempotent), and the result can be encoded as JSON. Aborts otherwise. */
void fuzz_check_validation(const form *f, int rc, json_t *normalised, json_t *problems);

#endif
