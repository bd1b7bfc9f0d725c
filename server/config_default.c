/* config_default: the configuration earshot runs on when there is no earshot.yaml. */
#include "config.h"

/* Every key at its documented default (config.md); no admin tokens (admin routes closed), no
 * destinations, no plugins. Relative paths resolve against the current directory. */
const char config_embedded_default[] =
	"# earshot embedded default configuration\n"
	"listen: 127.0.0.1:8080\n"
	"public_url: http://localhost:8080\n"
	"database: earshot.db\n"
	"durability: full\n"
	"forms_dir: forms\n"
	"static_dir: static\n"
	"limits:\n"
	"  max_body_bytes: 65536\n"
	"  submissions_per_minute: 30\n"
	"  min_fill_seconds: 2\n"
	"  header_timeout_seconds: 10\n"
	"trusted_proxies: []\n"
	"cors:\n"
	"  allowed_origins: [\"*\"]\n"
	"privacy:\n"
	"  client_ip: hashed\n"
	"  retention_days: 0\n"
	"admin:\n"
	"  tokens: []\n"
	"destinations: {}\n"
	"plugins: []\n";
