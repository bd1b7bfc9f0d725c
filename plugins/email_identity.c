/* email_identity: one person, however they spell their address. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "email_identity.h"

/* The address in lower case (ASCII letters only: UTF-8 bytes are kept). Returns a malloc'd copy. */
static char *lower_copy(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(n + 1);
	if (!out)
		abort();
	for (size_t i = 0; i <= n; i++)
		out[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' : s[i]);
	return out;
}

char *email_identity(const char *address, enum email_identity_mode mode)
{
	char *out = lower_copy(address);
	char *at = strrchr(out, '@');
	if (mode == EMAIL_IDENTITY_EXACT || !at || at == out || out[0] == '"')
		return out;
	const char *domain = at + 1;
	bool gmail = strcmp(domain, "gmail.com") == 0 || strcmp(domain, "googlemail.com") == 0;
	/* Rebuild in place: the result is never longer than the input. */
	size_t o = 0;
	for (char *p = out; p < at; p++) {
		if (*p == '+' && o > 0)
			break;
		if (gmail && *p == '.')
			continue;
		out[o++] = *p;
	}
	if (o == 0) {
		/* Nothing but dots before the '@': keep the address as it was. */
		free(out);
		return lower_copy(address);
	}
	const char *new_domain = gmail ? "gmail.com" : domain;
	size_t dl = strlen(new_domain);
	out[o++] = '@';
	memmove(out + o, new_domain, dl + 1);
	return out;
}
