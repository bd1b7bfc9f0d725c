/* plugin_host: loading plugins (file checks, dlopen, ABI checks, init), their life cycle, and the slot
 * that keeps the host in service swappable on reload. Dispatch and the host table: plugin_api.c. */
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin_internal.h"
#include "plugin_marker.h"
#include "storage.h"
#include "util.h"

/* Returns "file" for diagnostics about inst's config entry: its location, else its path. */
static const char *entry_where(const plugin_spec *spec)
{
	return spec->where ? spec->where : spec->path;
}

/* Checks the file before it is opened: it exists, is a regular file, is not writable by group or
 * others, and starts with an ELF header of a shared object. Returns 0, or -1 with a diag. */
static int check_file(const char *path, diag_list *diags)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		diag_add(diags, path, 0, 0, "unable to open shared library: %s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_add(diags, path, 0, 0, "not a shared object (not a regular file)");
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		diag_add(diags, path, 0, 0,
		         "refusing a plugin writable by %s (mode %04o): run chmod go-w on it",
		         (st.st_mode & S_IWOTH) ? "others" : "its group", (unsigned)(st.st_mode & 07777));
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		diag_add(diags, path, 0, 0, "unable to open shared library: %s", strerror(errno));
		return -1;
	}
	unsigned char hdr[EI_NIDENT + 2];
	ssize_t got = read(fd, hdr, sizeof hdr);
	close(fd);
	if (got < (ssize_t)sizeof hdr || memcmp(hdr, ELFMAG, SELFMAG) != 0) {
		diag_add(diags, path, 0, 0, "not a shared object (no ELF header)");
		return -1;
	}
	unsigned type = hdr[EI_DATA] == ELFDATA2MSB ? (unsigned)hdr[EI_NIDENT] << 8 | hdr[EI_NIDENT + 1]
	                                            : (unsigned)hdr[EI_NIDENT + 1] << 8 | hdr[EI_NIDENT];
	if (type != ET_DYN) {
		diag_add(diags, path, 0, 0, "not a shared object (ELF type %u, not a shared library)", type);
		return -1;
	}
	return 0;
}

int plugin_check_descriptor(const void *sym, unsigned host_major, unsigned host_minor,
                            struct earshot_plugin *out, char **reason)
{
	struct {
		uint32_t struct_size;
		uint16_t abi_major;
		uint16_t abi_minor;
	} head;
	memcpy(&head, sym, sizeof head);
	if (head.abi_major != host_major) {
		*reason = xasprintf("built for plugin ABI %u.%u, but this earshot speaks ABI %u.%u "
		                    "(another major version): rebuild it against this earshot's header",
		                    head.abi_major, head.abi_minor, host_major, host_minor);
		return -1;
	}
	if (head.abi_minor > host_minor) {
		*reason = xasprintf("built for plugin ABI %u.%u, newer than this earshot's %u.%u: "
		                    "upgrade earshot or rebuild the plugin against its header",
		                    head.abi_major, head.abi_minor, host_major, host_minor);
		return -1;
	}
	if (head.struct_size < PLUGIN_DESC_SIZE_1_0) {
		*reason = xasprintf("plugin descriptor is %u bytes, smaller than the oldest known (%zu): "
		                    "define it with EARSHOT_PLUGIN_REGISTER",
		                    (unsigned)head.struct_size, (size_t)PLUGIN_DESC_SIZE_1_0);
		return -1;
	}
	size_t n = head.struct_size < sizeof *out ? head.struct_size : sizeof *out;
	memset(out, 0, sizeof *out);
	memcpy(out, sym, n);
	if (!out->name || !out->name[0]) {
		*reason = xstrdup("plugin must have a .name");
		return -1;
	}
	if (!out->on_response && !out->on_route) {
		*reason = xstrdup("plugin must have an .on_response or an .on_route hook");
		return -1;
	}
	return 0;
}

/* Copies what the instance keeps of its config entry (the config may be freed after loading). */
static plugin_instance *instance_new(plugin_host *h, const plugin_spec *spec)
{
	plugin_instance *inst = xcalloc(1, sizeof *inst);
	inst->host = h;
	inst->name = xstrdup(spec->name);
	inst->path = xstrdup(spec->path);
	inst->where = xstrdup(entry_where(spec));
	if (spec->n_forms > 0) {
		inst->forms = xcalloc(spec->n_forms, sizeof *inst->forms);
		for (size_t i = 0; i < spec->n_forms; i++)
			inst->forms[i] = xstrdup(spec->forms[i]);
		inst->n_forms = spec->n_forms;
	} else {
		inst->forms = xcalloc(1, sizeof *inst->forms);
		inst->forms[0] = xstrdup("*");
		inst->n_forms = 1;
	}
	inst->config = spec->config ? json_incref(spec->config) : json_object();
	pthread_mutex_init(&inst->lock, NULL);
	inst->root = xcalloc(1, sizeof *inst->root);
	inst->root->head = (handle_head){ HANDLE_CONF, inst };
	inst->root->node = inst->config;
	inst->nodes = inst->root;
	return inst;
}

/* Calls fini when init succeeded, closes the library and frees inst. */
static void instance_free(plugin_instance *inst)
{
	if (!inst)
		return;
	if (inst->ready && inst->desc.fini) {
		hook_call call, *prev = hook_call_begin(&call, inst, "fini");
		inst->desc.fini(inst->state);
		hook_call_end(&call, prev);
	}
	if (inst->dl)
		dlclose(inst->dl);
	plugin_routes_free(inst);
	for (struct earshot_conf *c = inst->nodes, *next; c; c = next) {
		next = c->next;
		free(c);
	}
	pthread_mutex_destroy(&inst->lock);
	json_decref(inst->config);
	for (size_t i = 0; i < inst->n_forms; i++)
		free(inst->forms[i]);
	free(inst->forms);
	free(inst->name);
	free(inst->path);
	free(inst->where);
	free(inst);
}

/* Copies the file at path into a new anonymous in-memory file (memfd) and returns its descriptor, or
 * -1 (errno set). Loading from such a private copy makes every load see the file as it is now: the
 * dynamic loader hands back an already loaded library for the same file, so a plugin rebuilt at the
 * same path would otherwise keep its old code across a reload. */
static int private_copy(const char *path, const char *name)
{
	int in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	char label[96];
	snprintf(label, sizeof label, "earshot-plugin-%s", name);
	int out = memfd_create(label, MFD_CLOEXEC);
	if (out < 0) {
		int e = errno;
		close(in);
		errno = e;
		return -1;
	}
	char buf[65536];
	ssize_t got;
	while ((got = read(in, buf, sizeof buf)) > 0) {
		for (ssize_t off = 0; off < got;) {
			ssize_t put = write(out, buf + off, (size_t)(got - off));
			if (put < 0) {
				int e = errno;
				close(in);
				close(out);
				errno = e;
				return -1;
			}
			off += put;
		}
	}
	int e = errno;
	close(in);
	if (got < 0) {
		close(out);
		errno = e;
		return -1;
	}
	return out;
}

/* dlopen of a private copy of inst->path (see private_copy), or of the path itself where the copy
 * cannot be made or opened (no memfd, no /proc). Returns the handle or NULL (dlerror says why). */
static void *open_library(const plugin_instance *inst)
{
	int fd = private_copy(inst->path, inst->name);
	char file[64];
	/* The loader knows libraries by the name they were opened with: a descriptor number a loaded
	 * copy had before must not be reused, or the loader hands back that copy. */
	for (int tries = 0; fd >= 0 && tries < 64; tries++) {
		snprintf(file, sizeof file, "/proc/self/fd/%d", fd);
		void *loaded = dlopen(file, RTLD_NOW | RTLD_NOLOAD);
		if (!loaded)
			break;
		dlclose(loaded);
		int next = fcntl(fd, F_DUPFD_CLOEXEC, fd + 1);
		close(fd);
		fd = next;
	}
	if (fd >= 0) {
		dlerror();
		void *dl = access(file, R_OK) == 0 ? dlopen(file, RTLD_NOW | RTLD_LOCAL) : NULL;
		close(fd);
		if (dl)
			return dl;
	}
	/* A name without '/' would be searched for in the library path: always name the file. */
	char *named = strchr(inst->path, '/') ? xstrdup(inst->path) : xasprintf("./%s", inst->path);
	dlerror();
	void *dl = dlopen(named, RTLD_NOW | RTLD_LOCAL);
	free(named);
	return dl;
}

/* Opens the library of inst and checks its descriptor. Returns 0, or -1 with a diag. */
static int instance_open(plugin_instance *inst, diag_list *diags)
{
	if (check_file(inst->path, diags) != 0)
		return -1;
	plugin_file_ident(inst->path, inst->ident);
	inst->dl = open_library(inst);
	if (!inst->dl) {
		const char *why = dlerror();
		diag_add(diags, inst->path, 0, 0, "unable to open shared library: %s", why ? why : "unknown error");
		return -1;
	}
	dlerror();
	void *sym = dlsym(inst->dl, "earshot_plugin");
	if (!sym) {
		diag_add(diags, inst->path, 0, 0, "no entry point [earshot_plugin] in shared library [%s]",
		         inst->path);
		return -1;
	}
	char *reason = NULL;
	if (plugin_check_descriptor(sym, EARSHOT_PLUGIN_ABI_MAJOR, EARSHOT_PLUGIN_ABI_MINOR, &inst->desc,
	                            &reason) != 0) {
		diag_add(diags, inst->path, 0, 0, "%s", reason);
		free(reason);
		return -1;
	}
	return 0;
}

/* Runs the plugin's init with its config. Returns 0, or -1 with "WHERE: plugin NAME: message". */
static int instance_init(plugin_instance *inst, diag_list *diags)
{
	void *state = NULL;
	int rc = 0;
	char *msg = NULL;
	if (inst->desc.init) {
		hook_call call, *prev = hook_call_begin(&call, inst, "init");
		rc = inst->desc.init(plugin_api_table(), inst->root, &state);
		if (rc != EARSHOT_OK && call.error)
			msg = xstrdup(call.error);
		hook_call_end(&call, prev);
	}
	if (rc != EARSHOT_OK) {
		diag_add(diags, inst->where, 0, 0, "plugin %s: %s", inst->name,
		         msg ? msg : "init refused its configuration (no message given)");
		free(msg);
		plugin_routes_free(inst);
		return -1;
	}
	inst->state = state;
	inst->ready = true;
	return 0;
}

/* Reports a route of inst that an earlier plugin already registered. Returns 0, or -1 with a diag. */
static int check_route_clash(plugin_host *h, plugin_instance *inst, diag_list *diags)
{
	for (size_t r = 0; r < inst->n_routes; r++) {
		for (size_t i = 0; i < h->n; i++) {
			for (size_t s = 0; s < h->inst[i]->n_routes; s++) {
				const plugin_route *a = &inst->routes[r], *b = &h->inst[i]->routes[s];
				if (strcmp(a->method, b->method) == 0 && strcmp(a->pattern, b->pattern) == 0) {
					diag_add(diags, inst->where, 0, 0,
					         "plugin %s: route %s %s is already served by plugin %s",
					         inst->name, a->method, a->pattern, h->inst[i]->name);
					return -1;
				}
			}
		}
	}
	return 0;
}

int plugin_host_load(const earshot_config *cfg, const char *db_path, form_registry *forms,
                     plugin_host **out, diag_list *diags)
{
	plugin_host *h = xcalloc(1, sizeof *h);
	atomic_init(&h->refs, 1);
	h->db_path = db_path ? xstrdup(db_path) : NULL;
	pthread_mutex_init(&h->route_lock, NULL);
	h->inst = xcalloc(cfg->n_plugins ? cfg->n_plugins : 1, sizeof *h->inst);
	h->destinations = xcalloc(cfg->n_destinations ? cfg->n_destinations : 1, sizeof *h->destinations);
	for (size_t i = 0; i < cfg->n_destinations; i++)
		h->destinations[h->n_destinations++] = xstrdup(cfg->destinations[i].name);
	h->config_dir = xstrdup(cfg->dir ? cfg->dir : ".");
	h->forms = forms ? form_registry_ref(forms) : NULL;
	int failed = 0;
	for (size_t i = 0; i < cfg->n_plugins; i++) {
		const plugin_spec *spec = &cfg->plugins[i];
		if (spec->disabled) {
			h->disabled = xrealloc(h->disabled, (h->n_disabled + 1) * sizeof *h->disabled);
			h->disabled[h->n_disabled++] = xstrdup(spec->disabled_why ? spec->disabled_why : spec->name);
			continue;
		}
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			dup = dup || strcmp(cfg->plugins[j].name, spec->name) == 0;
		if (dup) {
			diag_add(diags, entry_where(spec), 0, 0, "plugin %s is listed twice", spec->name);
			failed = 1;
			continue;
		}
		plugin_instance *inst = instance_new(h, spec);
		if (instance_open(inst, diags) != 0 || instance_init(inst, diags) != 0 ||
		    check_route_clash(h, inst, diags) != 0) {
			instance_free(inst);
			failed = 1;
			continue;
		}
		h->inst[h->n++] = inst;
	}
	if (failed) {
		plugin_host_free(h);
		*out = NULL;
		return -1;
	}
	*out = h;
	return 0;
}

plugin_host *plugin_host_ref(plugin_host *h)
{
	atomic_fetch_add(&h->refs, 1);
	return h;
}

void plugin_host_free(plugin_host *h)
{
	if (!h || atomic_fetch_sub(&h->refs, 1) != 1)
		return;
	for (size_t i = h->n; i-- > 0;)
		instance_free(h->inst[i]);
	free(h->inst);
	for (size_t i = 0; i < h->n_destinations; i++)
		free(h->destinations[i]);
	free(h->destinations);
	for (size_t i = 0; i < h->n_disabled; i++)
		free(h->disabled[i]);
	free(h->disabled);
	free(h->config_dir);
	if (h->ro)
		store_close(h->ro);
	if (h->forms)
		form_registry_unref(h->forms);
	pthread_mutex_destroy(&h->route_lock);
	free(h->db_path);
	free(h);
}

size_t plugin_host_count(const plugin_host *h)
{
	return h ? h->n : 0;
}

const char *plugin_host_name(const plugin_host *h, size_t i)
{
	return h && i < h->n ? h->inst[i]->name : NULL;
}

const char *plugin_host_disabled(const plugin_host *h, size_t i)
{
	return h && i < h->n_disabled ? h->disabled[i] : NULL;
}

void plugin_host_set_logger(plugin_host *h, plugin_log_fn fn, void *arg)
{
	h->log_fn = fn;
	h->log_arg = arg;
}

void plugin_host_set_outbox(plugin_host *h, plugin_enqueue_fn fn, void *arg)
{
	h->enqueue_fn = fn;
	h->enqueue_arg = arg;
}

void plugin_host_set_forms(plugin_host *h, form_registry *reg)
{
	if (h->forms == reg)
		return;
	pthread_mutex_lock(&h->route_lock);
	form_registry *old = h->forms;
	h->forms = reg ? form_registry_ref(reg) : NULL;
	pthread_mutex_unlock(&h->route_lock);
	if (old)
		form_registry_unref(old);
}

int plugin_host_on_response(void *ctx, store *st, writer_job *job, char **err)
{
	return plugin_api_on_response(ctx, st, job, err);
}

int plugin_host_route(plugin_host *h, const plugin_http_request *in, int *status, char **json_body)
{
	return plugin_api_route(h, in, status, json_body);
}

bool plugin_host_offers_for_form(const plugin_host *h, const char *form_id)
{
	for (size_t i = 0; h && i < h->n; i++)
		if (h->inst[i]->offers && plugin_instance_sees_form(h->inst[i], form_id))
			return true;
	return false;
}

bool plugin_host_responds_for_form(const plugin_host *h, const char *form_id)
{
	for (size_t i = 0; h && i < h->n; i++)
		if (h->inst[i]->desc.on_response && plugin_instance_sees_form(h->inst[i], form_id))
			return true;
	return false;
}

/* ---- The host in service ------------------------------------------------------------------------ */

struct plugin_slot {
	pthread_mutex_t lock;    /* guards current */
	plugin_host *current;    /* one reference, may be NULL */
};

plugin_slot *plugin_slot_new(plugin_host *h)
{
	plugin_slot *s = xcalloc(1, sizeof *s);
	pthread_mutex_init(&s->lock, NULL);
	s->current = h;
	return s;
}

void plugin_slot_free(plugin_slot *s)
{
	if (!s)
		return;
	plugin_host_free(s->current);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void plugin_slot_swap(plugin_slot *s, plugin_host *next)
{
	pthread_mutex_lock(&s->lock);
	plugin_host *old = s->current;
	s->current = next;
	pthread_mutex_unlock(&s->lock);
	plugin_host_free(old);
}

plugin_host *plugin_slot_acquire(plugin_slot *s)
{
	pthread_mutex_lock(&s->lock);
	plugin_host *h = s->current ? plugin_host_ref(s->current) : NULL;
	pthread_mutex_unlock(&s->lock);
	return h;
}

int plugin_slot_on_response(void *ctx, store *st, writer_job *job, char **err)
{
	plugin_host *h = plugin_slot_acquire(ctx);
	if (!h)
		return 0;
	int rc = plugin_host_on_response(h, st, job, err);
	plugin_host_free(h);
	return rc;
}

bool plugin_slot_runs_for(void *ctx, const writer_job *job)
{
	plugin_host *h = plugin_slot_acquire(ctx);
	bool runs = plugin_host_responds_for_form(h, job->form->id);
	plugin_host_free(h);
	return runs;
}

int plugin_slot_route(plugin_slot *s, const plugin_http_request *in, int *status, char **json_body)
{
	plugin_host *h = plugin_slot_acquire(s);
	if (!h)
		return 0;
	int rc = plugin_host_route(h, in, status, json_body);
	plugin_host_free(h);
	return rc;
}
