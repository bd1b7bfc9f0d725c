/* route_tables: every family of routes, in the order dispatch() searches them. Add a family here. */
#include <stddef.h>

#include "http.h"

extern const route hosted_routes[]; /* routes_hosted.c: the hosted form pages */
extern const route confirm_routes[]; /* routes_confirm.c: the link of a signup confirmation email */
extern const route contacts_routes[]; /* routes_contacts.c: erasure by contact */
extern const route dashboard_routes[]; /* routes_dashboard.c: GET /admin */
extern const route home_routes[]; /* routes_home.c: GET /, the landing page */
extern const route inbox_routes[]; /* routes_inbox.c: the follow-up inbox and the contact card */
extern const route metrics_routes[]; /* routes_metrics.c: GET /metrics */
extern const route summary_routes[]; /* routes_summary.c: the per-question summary of a form */
extern const route views_routes[]; /* routes_views.c: views counted by the widget */
extern const route response_detail_routes[]; /* routes_response_detail.c: one answer in full, answers per period */

const route *const route_tables[] = {
	public_routes,
	views_routes,
	hosted_routes,
	confirm_routes,
	admin_routes,
	summary_routes,
	response_detail_routes,
	deliveries_routes,
	contacts_routes,
	inbox_routes,
	metrics_routes,
	dashboard_routes,
	home_routes,
	NULL,
};
