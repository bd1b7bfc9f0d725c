/* bare_server: the baseline for benchmarks — a libevent evhttp server that answers every request
 * with a fixed small JSON body and does no work. earshot's figures are reported as ratios to it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

static void answer(struct evhttp_request *req, void *arg)
{
	struct evbuffer *buf = evbuffer_new();
	evbuffer_add_printf(buf, "{\"id\":\"r_baseline\",\"thank_you\":\"Thanks\",\"offers\":[]}\n");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	evhttp_send_reply(req, evhttp_request_get_command(req) == EVHTTP_REQ_POST ? 201 : 200, "OK", buf);
	evbuffer_free(buf);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: bare_server PORT\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	struct event_base *base = event_base_new();
	struct evhttp *http = evhttp_new(base);
	evhttp_set_gencb(http, answer, NULL);
	if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)atoi(argv[1])) != 0) {
		perror("bind");
		return 1;
	}
	event_base_dispatch(base);
	return 0;
}
