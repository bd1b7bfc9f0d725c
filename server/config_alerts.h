/* config_alerts: the keys of email and chat destinations in earshot.yaml, and copying destinations.
 * Split from config.c so the alert destinations' rules live in one place. */
#ifndef EARSHOT_CONFIG_ALERTS_H
#define EARSHOT_CONFIG_ALERTS_H

#include "config.h"
#include "yaml_doc.h"

/* Reads smtp_url, username, password_file, from, to and timeout_seconds of an email destination
 * into dst, reporting every problem at its node. dir resolves a relative password_file. */
void config_read_email(ydoc *doc, const yaml_node_t *map, const char *dir, destination *dst);
/* Reads url, format and timeout_seconds of a chat destination into dst. */
void config_read_chat(ydoc *doc, const yaml_node_t *map, destination *dst);
/* Reports the email and chat keys (smtp_url, username, password_file, from, to, format) present in
 * a destination of another type. */
void config_refuse_alert_keys(ydoc *doc, const yaml_node_t *map, destination_type type);

#endif
