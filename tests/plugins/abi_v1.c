/* ABI regression fixture: compiled against the frozen copy of the 1.0 header in abi-v1/, never the
 * current one. Every later server speaking ABI 1 must load it and give the same results; it calls
 * functions from across the host table so that a reordered or reshaped table shows up as a failure.
 *
 *   config: {label: TEXT}  ->  score "v1" = the first answered number, tags "v1:TEXT" and
 *                              "v1:type=<question type>", kv "seen" incremented (its value as a tag);
 *   route GET /v1/{form}  ->  {"form": FORM, "label": TEXT} built with reply_text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <earshot/plugin.h>

#if EARSHOT_PLUGIN_ABI_MAJOR != 1 || EARSHOT_PLUGIN_ABI_MINOR != 0
#error "this fixture must be built against the frozen 1.0 header"
#endif

struct v1_state {
	const struct earshot_host *host;
	const char *label;
};

static int v1_init(const struct earshot_host *host, const earshot_conf *config, void **state)
{
	struct v1_state *s = calloc(1, sizeof *s);
	if (!s)
		return EARSHOT_ERROR;
	s->host = host;
	s->label = "none";
	/* The last two functions of the released table must be there and answer. */
	if (!host->config_dir(config) || host->has_destination(config, "nowhere") != 0) {
		host->set_error(config, "config_dir or has_destination missing");
		free(s);
		return EARSHOT_ERROR;
	}
	if (host->config_string(config, "label", &s->label) < 0 ||
	    host->add_route(config, "GET", "/v1/{form}") != EARSHOT_OK) {
		host->set_error(config, "%s", host->last_error(config));
		free(s);
		return EARSHOT_ERROR;
	}
	*state = s;
	return EARSHOT_OK;
}

static int v1_response(void *state, earshot_response *r)
{
	struct v1_state *s = state;
	const struct earshot_host *h = s->host;
	char tag[128];
	for (size_t i = 0; i < h->answered_count(r); i++) {
		const char *id = h->answered_id(r, i);
		double v;
		if (h->answer_number(r, id, &v) == 1) {
			if (h->set_score(r, "v1", v, "counted") != EARSHOT_OK)
				return EARSHOT_ERROR;
			snprintf(tag, sizeof tag, "v1:type=%s", h->question_type(r, id));
			h->add_tag(r, tag);
			break;
		}
	}
	snprintf(tag, sizeof tag, "v1:%s", s->label);
	h->add_tag(r, tag);
	int64_t seen = 0;
	if (h->kv_incr(r, "seen", 1, &seen) != EARSHOT_OK)
		return EARSHOT_ERROR;
	snprintf(tag, sizeof tag, "v1:seen=%lld", (long long)seen);
	h->add_tag(r, tag);
	return EARSHOT_OK;
}

static int v1_route(void *state, earshot_request *req)
{
	struct v1_state *s = state;
	char body[256];
	snprintf(body, sizeof body, "{\"form\":\"%s\",\"label\":\"%s\"}", s->host->path_param(req, "form"),
	         s->label);
	return s->host->reply_text(req, 200, body);
}

static void v1_fini(void *state)
{
	free(state);
}

EARSHOT_PLUGIN_REGISTER(.name = "abi_v1", .version = "1.0", .init = v1_init, .on_response = v1_response,
                        .on_route = v1_route, .fini = v1_fini);
