/* email_identity: when two email addresses belong to one person, for the incentive plugin's
 * `one_per: email`. Needs nothing but the C library, so the plugin stays buildable against the
 * public header alone. */
#ifndef EARSHOT_EMAIL_IDENTITY_H
#define EARSHOT_EMAIL_IDENTITY_H

/* How addresses are compared. */
enum email_identity_mode {
	EMAIL_IDENTITY_CANONICAL, /* case, "+tag" sub-addresses, and Gmail's dots and googlemail.com */
	EMAIL_IDENTITY_EXACT      /* the whole address, ignoring letter case only */
};

/* The identity of address under mode, as a malloc'd string (caller frees):
 *   exact      the address in lower case;
 *   canonical  the same, then the local part cut at its first '+' (when something precedes it:
 *              "ann+shop@x" -> "ann@x"), and for gmail.com and googlemail.com the dots of the local
 *              part dropped and the domain written gmail.com ("A.n.n+1@googlemail.com" ->
 *              "ann@gmail.com").
 * A quoted local part or a string without '@' is only lower-cased. */
char *email_identity(const char *address, enum email_identity_mode mode);

#endif
