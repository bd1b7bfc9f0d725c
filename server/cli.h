/* cli: the sub-commands of the earshot binary (one file each), dispatched from main.c. */
#ifndef EARSHOT_CLI_H
#define EARSHOT_CLI_H

/* Each takes the arguments after the sub-command name and returns the process exit code:
 * 0 success, 1 failure (message printed), 2 usage error. */
int cli_serve(int argc, char **argv);
int cli_check(int argc, char **argv);
int cli_export(int argc, char **argv);
int cli_token(int argc, char **argv);
int cli_version(int argc, char **argv);
int cli_deliveries(int argc, char **argv);
int cli_forget(int argc, char **argv);
int cli_init(int argc, char **argv);
int cli_migrate(int argc, char **argv);

/* Makes a new random admin token "es_" + 40 letters and digits, and the hex SHA-256 of it (the part of
 * its admin.tokens line after "sha256:"). Returns 0, or -1 when no randomness is available. */
int cli_new_admin_token(char token[44], char hex[65]);

/* Prints "earshot: MESSAGE" and a hint to stderr and returns 2. */
int cli_usage_error(const char *command, const char *message);
/* Parses the only option of serve and check, -c/--config FILE (and --help, which prints help).
 * Returns -1 to go on with *config_path set (NULL when not given), else the exit code to return. */
int cli_parse_config_option(int argc, char **argv, const char *command, const char *help,
                            const char **config_path);
/* Loads the config named by -c (or the default), printing every problem. Returns NULL on failure. */
struct earshot_config *cli_load_config(const char *path);

#endif
