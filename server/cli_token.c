/* cli_token: `earshot token` — a new random admin token and the line that accepts it. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "util.h"

int cli_new_admin_token(char token[44], char hex[65])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char raw[40];
	if (random_bytes(raw, sizeof raw) != 0)
		return -1;
	memcpy(token, "es_", 3);
	/* 62 symbols: reject bytes >= 248 would be exact; the bias of % 62 over 256 is below 0.5 bit
	 * over 40 characters (~238 bits), far beyond what guessing could use. */
	for (int i = 0; i < 40; i++)
		token[3 + i] = alphabet[raw[i] % 62];
	token[43] = '\0';
	sha256_hex(token, strlen(token), hex);
	return 0;
}

int cli_token(int argc, char **argv)
{
	if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs("usage: earshot token\nPrints a new random admin token, and the sha256: line to add to "
		      "admin.tokens in earshot.yaml.\nOnly the hash goes into the config; keep the token itself "
		      "secret.\n", stdout);
		return 0;
	}
	if (argc > 1)
		return cli_usage_error("token", "unexpected argument");
	char token[44], hex[65];
	if (cli_new_admin_token(token, hex) != 0) {
		fputs("earshot token: no randomness available\n", stderr);
		return 1;
	}
	printf("token: %s\n", token);
	printf("admin.tokens entry: \"sha256:%s\"\n", hex);
	return 0;
}
