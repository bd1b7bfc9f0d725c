/* config_firstrun: defaults that make a short earshot.yaml behave like the embedded default. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_firstrun.h"
#include "paths.h"
#include "util.h"

/* True when path names an existing regular file. */
static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* True when path names an existing directory. */
static bool is_directory(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Returns dir/p (p itself when absolute or dir is "" or "."), malloc'd. */
static char *join(const char *dir, const char *p)
{
	if (p[0] == '/' || !dir || !*dir || strcmp(dir, ".") == 0)
		return xstrdup(p);
	size_t dl = strlen(dir);
	return xasprintf("%s%s%s", dir, dir[dl - 1] == '/' ? "" : "/", p);
}

/* Returns the malloc'd path of NAME in the running binary's directory (a build tree keeps the plugins,
 * forms and static files there) when it exists as a file (want_dir false) or directory, else NULL. */
static char *beside_binary(const char *name, bool want_dir)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	char *dir_end = strrchr(exe, '/');
	if (!dir_end)
		return NULL;
	*dir_end = '\0';
	char *beside = xasprintf("%s/%s", exe, name);
	if (want_dir ? is_directory(beside) : is_file(beside))
		return beside;
	free(beside);
	return NULL;
}

char *config_plugin_path(const char *dir, const char *written)
{
	char *candidate = join(dir, written);
	if (strchr(written, '/') || is_file(candidate))
		return candidate;
	free(candidate);
	size_t len = strlen(written);
	char *name = len > 3 && strcmp(written + len - 3, ".so") == 0 ? xstrndup(written, len - 3) : xstrdup(written);
	char *file = xasprintf("plugins/%s.so", name);
	char *found = beside_binary(file, false);
	if (!found)
		found = xasprintf("%s/%s.so", EARSHOT_PLUGINDIR, name);
	free(file);
	free(name);
	return found;
}

char *config_public_url_for_listen(const char *host, int port)
{
	static const char *const local[] = { "", "127.0.0.1", "::1", "0.0.0.0", "::", "localhost", NULL };
	const char *shown = host;
	for (size_t i = 0; local[i]; i++)
		if (strcmp(host, local[i]) == 0)
			shown = "localhost";
	bool v6 = strchr(shown, ':') != NULL;
	if (port == 80)
		return xasprintf("http://%s%s%s", v6 ? "[" : "", shown, v6 ? "]" : "");
	return xasprintf("http://%s%s%s:%d", v6 ? "[" : "", shown, v6 ? "]" : "", port);
}

/* True when c defines a destination called name. */
static bool has_destination_named(const earshot_config *c, const char *name)
{
	for (size_t i = 0; i < c->n_destinations; i++)
		if (strcmp(c->destinations[i].name, name) == 0)
			return true;
	return false;
}

void config_adopt_default_plugins(earshot_config *c, earshot_config *d)
{
	free(c->plugins);
	c->plugins = d->plugins;
	c->n_plugins = d->n_plugins;
	d->plugins = NULL;
	d->n_plugins = 0;
	for (size_t i = 0; i < d->n_destinations; i++) {
		if (has_destination_named(c, d->destinations[i].name))
			continue;
		c->destinations = xrealloc(c->destinations, (c->n_destinations + 1) * sizeof *c->destinations);
		c->destinations[c->n_destinations++] = d->destinations[i];
		memset(&d->destinations[i], 0, sizeof d->destinations[i]);
	}
}

/* Replaces *dir (written relative, see config_use_installed_dirs) when it is not a directory: by
 * SUB beside the running binary (a build tree), else by the installed $(pkgdatadir)/SUB. */
static void use_installed_dir(earshot_config *c, const char *key, char **dir, const char *sub)
{
	if (is_directory(*dir))
		return;
	char *instead = beside_binary(sub, true);
	if (!instead)
		instead = xasprintf("%s/%s", EARSHOT_DATADIR, sub);
	diag_add(&c->notices, c->source, 0, 0, "%s %s is not a directory: using %s instead", key, *dir,
	         instead);
	free(*dir);
	*dir = instead;
}

void config_use_installed_dirs(earshot_config *c)
{
	if (c->forms_dir_relative)
		use_installed_dir(c, "forms_dir", &c->forms_dir, "forms");
	if (c->static_dir_relative)
		use_installed_dir(c, "static_dir", &c->static_dir, "static");
}
