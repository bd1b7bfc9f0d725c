/* client_addr: which address a request came from. The socket peer, unless the peer is a trusted
 * proxy (config `trusted_proxies`): then the X-Forwarded-For chain — every header line joined, in
 * order — is walked from the right, and the right-most address that is not a trusted proxy is the
 * client. A client can append to the chain but not remove what the proxies added after it, so only
 * the part the trusted proxies vouch for is believed. */
#ifndef EARSHOT_CLIENT_ADDR_H
#define EARSHOT_CLIENT_ADDR_H

#include <event2/keyvalq_struct.h>

#include "config.h"

/* Longest text client_addr_resolve writes, terminating NUL included. */
#define CLIENT_ADDR_MAX 64

/* Writes the client's address into out: peer (the socket's address as text, may be NULL or empty),
 * or, when cfg trusts peer as a proxy, the right-most X-Forwarded-For entry of headers (borrowed,
 * may be NULL) that is not itself a trusted proxy. When the walk meets an entry that is not an
 * address (garbage, "unknown", an empty chain) it stops at the last trusted hop it reached, so a
 * proxy never passes off a made-up key. Addresses are written in canonical form (inet_ntop; an
 * IPv4-mapped IPv6 address as plain IPv4); out is "" when peer is absent. */
void client_addr_resolve(const earshot_config *cfg, const char *peer, const struct evkeyvalq *headers,
                         char out[CLIENT_ADDR_MAX]);

#endif
