/*
 * Staff sessions. A login checks the scrypt hash and the TOTP code, under
 * failure counters kept in the database (per account, with a lock that
 * grows, and per source address; both decay, and every instance shares
 * them), then records a session in the database and returns its token;
 * only the token's SHA-256 is stored. ecadm-sshd logs its users in the
 * same way with an SSH key instead of the password (op-ssh.c): the key
 * must be one of the member's, and the session remembers it, so that
 * removing the key ends the session. The connection caches the session;
 * the gate confirms it against the database every session_check seconds
 * (idle expiry, end of its lifetime, logout elsewhere, staff disabled), so
 * any instance of ecadmd can serve any session and nothing is lost on a
 * restart: a client reconnects with "resume" and its token.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "hex.h"
#include "crypto.h"
#include "db.h"
#include "log.h"
#include "password.h"
#include "server.h"
#include "sshkey.h"
#include "totp.h"
#include "xmalloc.h"

/* The one answer to a refused login, whatever the reason: it names every
 * possible cause, so a locked-out or TOTP-forgetting user knows what to
 * look at, and tells nobody which one it was. */
#define LOGIN_REFUSED	"Connexion refusée : identifiant, mot de passe ou " \
	"code incorrect, ou trop de tentatives."
/* The answers to ecadm-sshd: a key refused, whatever the reason (unknown
 * login, key not registered, account locked or disabled, too many
 * failures), and a good key whose TOTP code is missing or wrong. */
#define KEY_REFUSED	"Clé refusée."
#define KEY_TOTP_REFUSED "Clé refusée : code de vérification (TOTP) " \
	"manquant, incorrect ou déjà utilisé."

/* Room for the key of an address in login_throttle ("<IPv6>/64"). */
#define ADDR_KEY_LEN	SESSION_ADDR_KEY_LEN
_Static_assert(ADDR_KEY_LEN >= INET6_ADDRSTRLEN + 8, "address key room");

/* Bumped when a staff member is disabled: every cached session is then
 * checked against the database on its next request. */
static atomic_uint	session_epoch;

void
session_free(struct session *s)
{
	size_t	i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nschools; i++) {
		free(s->schools[i].name);
		free(s->schools[i].town);
	}
	free(s->schools);
	free(s->login);
	free(s->name);
	free(s);
}

void
gate_revoke_staff(int staff_id)
{
	(void)staff_id;
	atomic_fetch_add(&session_epoch, 1);
}

void
token_new(char token[TOKEN_LEN], char hash[TOKEN_HASH_LEN])
{
	unsigned char	raw[32];

	if (RAND_bytes(raw, sizeof raw) != 1)
		fatalx("RAND_bytes failed");
	hex_encode(raw, sizeof raw, token);
	OPENSSL_cleanse(raw, sizeof raw);
	token_hash_literal(token, hash);
}

void
token_hash_literal(const char *token, char out[TOKEN_HASH_LEN])
{
	unsigned char	md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)token, strlen(token), md);
	out[0] = '\\';
	out[1] = 'x';
	hex_encode(md, sizeof md, out + 2);
}

/* Build the cached session of a staff member from the database. */
static struct session *
session_load(struct worker *w, int64_t session_id, const char *staff_id)
{
	static struct db_stmt	 staff_stmt = DB_STMT(
	    "select id, login, name, role from staff where id = $1");
	enum { STAFF_ID, STAFF_LOGIN, STAFF_NAME, STAFF_ROLE };
	static struct db_stmt	 schools_stmt = DB_STMT(
	    "select sc.id, sc.uai, sc.name, sc.town from staff_schools ss"
	    " join schools sc on sc.id = ss.school_id"
	    " where ss.staff_id = $1 order by sc.uai");
	enum { SCHOOL_ID, SCHOOL_UAI, SCHOOL_NAME, SCHOOL_TOWN };
	struct session		*s;
	PGresult		*res;
	int			 i;

	if ((res = db_queryv(w->db, &staff_stmt, staff_id)) == NULL)
		return NULL;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return NULL;
	}
	s = xcalloc(1, sizeof *s);
	s->id = session_id;
	s->staff_id = (int)db_get_int(res, 0, STAFF_ID);
	s->login = xstrdup(db_get(res, 0, STAFF_LOGIN));
	s->name = xstrdup(db_get(res, 0, STAFF_NAME));
	s->role = proto_role_lookup(db_get(res, 0, STAFF_ROLE));
	PQclear(res);

	if ((res = db_queryv(w->db, &schools_stmt, staff_id)) == NULL) {
		session_free(s);
		return NULL;
	}
	s->nschools = (size_t)PQntuples(res);
	if (s->nschools > 0)
		s->schools = xcalloc(s->nschools, sizeof *s->schools);
	for (i = 0; i < PQntuples(res); i++) {
		s->schools[i].id = (int)db_get_int(res, i, SCHOOL_ID);
		snprintf(s->schools[i].uai, sizeof s->schools[i].uai, "%s",
		    db_get(res, i, SCHOOL_UAI));
		if (db_get(res, i, SCHOOL_NAME) != NULL)
			s->schools[i].name = xstrdup(db_get(res, i,
			    SCHOOL_NAME));
		if (db_get(res, i, SCHOOL_TOWN) != NULL)
			s->schools[i].town = xstrdup(db_get(res, i,
			    SCHOOL_TOWN));
	}
	PQclear(res);
	clock_gettime(CLOCK_MONOTONIC, &s->checked);
	s->epoch = atomic_load(&session_epoch);
	return s;
}

/* What a client learns of its session. */
json_t *
session_describe(const struct session *s, const char *token)
{
	json_t	*schools, *o;
	size_t	 i;

	schools = json_array();
	for (i = 0; i < s->nschools; i++)
		json_array_append_new(schools, json_pack("{s:s, s:s?}",
		    "uai", s->schools[i].uai, "name", s->schools[i].name));
	o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:i}", "login", s->login,
	    "name", s->name, "role", proto_role_name(s->role), "role_label",
	    proto_role_label(s->role), "schools", schools, "idle_minutes",
	    server_cfg.session_idle);
	if (token != NULL)
		json_object_set_new(o, "token", json_string(token));
	return o;
}

/* The key of a source address in login_throttle: the address itself; an
 * IPv6 one cut to its /64, since one subscriber gets a whole /64 and could
 * otherwise take a fresh address for every try; an IPv4-mapped one as the
 * IPv4 address it is. */
void
session_addr_key(const char *addr, char out[ADDR_KEY_LEN])
{
	struct in6_addr	 a6;
	char		 host[ADDR_KEY_LEN], net[INET6_ADDRSTRLEN], *pct;

	snprintf(host, sizeof host, "%s", addr != NULL ? addr : "?");
	if ((pct = strchr(host, '%')) != NULL)
		*pct = '\0';
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&a6)) {
			if (inet_ntop(AF_INET, &a6.s6_addr[12], net,
			    sizeof net) != NULL) {
				snprintf(out, ADDR_KEY_LEN, "%s", net);
				return;
			}
		} else {
			memset(&a6.s6_addr[8], 0, 8);
			if (inet_ntop(AF_INET6, &a6, net, sizeof net) != NULL) {
				snprintf(out, ADDR_KEY_LEN, "%s/64", net);
				return;
			}
		}
	}
	snprintf(out, ADDR_KEY_LEN, "%s", host);
}

/*
 * Record a failed login: against the source address (addr, unless NULL)
 * and against the account (staff_id, unless NULL), whose count decays and
 * locks it once it reaches login_max_failures: 30 s, doubling with each
 * failure, at most an hour. Rows of addresses whose count has decayed to
 * nothing go at the same time, so the table holds only current abusers.
 * One statement whatever is recorded: a known login costs no extra round
 * trip that would tell it from an unknown one.
 */
static void
session_failed(struct worker *w, const char *staff_id, const char *addr)
{
	/* In the update, SET expressions all read the row as it was, and a
	 * concurrent failure makes this one re-read it: no count is lost.
	 * The exponent is capped so that the interval cannot overflow
	 * (2^7 * 30 s is past the hour anyway). */
	static struct db_stmt	 stmt = DB_STMT(
	    "with gone as (delete from login_throttle"
	    "  where $1::text is not null and addr <> $1::text"
	    "  and last_failure <"
	    "   now() - make_interval(secs => $3::int * $4::int)"
	    "  and login_failures_now(failures, last_failure, $3::int) = 0),"
	    " by_addr as (insert into login_throttle as t"
	    "  (addr, failures, last_failure)"
	    "  select $1::text, 1, now() where $1::text is not null"
	    "  on conflict (addr) do update set failures ="
	    "   login_failures_now(t.failures, t.last_failure, $3::int) + 1,"
	    "   last_failure = now())"
	    " update staff set"
	    "  failed_logins = login_failures_now(failed_logins,"
	    "   last_failed_at, $3::int) + 1,"
	    "  last_failed_at = now(),"
	    "  locked_until = case when login_failures_now(failed_logins,"
	    "   last_failed_at, $3::int) + 1 >= $5::int"
	    "   then now() + least(interval '1 hour', interval '30 seconds'"
	    "    * power(2, least(login_failures_now(failed_logins,"
	    "     last_failed_at, $3::int) + 1 - $5::int, 7)))"
	    "   else locked_until end"
	    " where id = $2::int");
	PGresult		*res;
	char			 max[16], addr_max[16], decay[16];

	snprintf(max, sizeof max, "%d", server_cfg.login_max_failures);
	snprintf(addr_max, sizeof addr_max, "%d",
	    server_cfg.login_addr_max_failures);
	snprintf(decay, sizeof decay, "%d", server_cfg.login_failure_decay);
	/* A failure to record is logged (db.c) but does not change the
	 * answer: the login is refused anyway. */
	if ((res = db_queryv(w->db, &stmt, addr, staff_id, decay, addr_max,
	    max)) != NULL)
		PQclear(res);
}

/* Check a TOTP code against a staff member's sealed secret: 1, and the
 * step it matched, if it is good and later than the last one used. */
static int
session_totp_check(const char *staff_id, const char *sealed,
    const char *last_step, const char *code, int64_t *step)
{
	unsigned char	*box;
	char		*secret;
	size_t		 len;
	int		 ok;

	secret = NULL;
	if ((box = crypto_bytea_parse(sealed, &len)) != NULL) {
		secret = crypto_open_totp(strtoll(staff_id, NULL, 10), box, len);
		free(box);
	}
	if (secret == NULL) {
		log_warnx("the TOTP secret of staff %s does not open with this "
		    "key_file", staff_id);
		return 0;
	}
	ok = totp_check(secret, code, time(NULL), last_step != NULL ?
	    strtoll(last_step, NULL, 10) : -1, step);
	freezero(secret, strlen(secret));
	return ok;
}

/*
 * What a login attempt found out, step by step. A password login
 * (session_login) and a key login of ecadm-sshd (session_key_login) are
 * the same attempt with another credential: one statement reads the
 * account, the same rules refuse it, count its failures and open its
 * session.
 */
struct login_attempt {
	const char	*login;
	const char	*password;	/* a password login, or NULL */
	const struct sshkey *key;	/* a key login, or NULL */
	const char	*code;		/* TOTP, or NULL */
	const char	*addr;		/* throttle key; NULL: not counted */
	const char	*from;		/* the client's address, for the log */
	const char	*channel;	/* of the session */
	PGresult	*res;		/* the staff row (login_find) */
	const char	*staff_id;	/* NULL: unknown login */
	const char	*key_id;	/* the staff_keys row of key, or NULL */
	unsigned	 role;
	int		 throttled;	/* too many failures from addr */
	int		 credential_ok;	/* the password, or a key of the member */
	int		 totp;		/* enrolled */
	int		 totp_ok;
	int64_t		 step;		/* of a good TOTP code */
	int		 locked;
	int		 disabled;
};

/* Read the staff row, the key's row and the address's failures, and
 * check the credential and the code: a password login costs one scrypt
 * verification, known login or not. */
static int
login_find(struct worker *w, struct request *req, struct login_attempt *a)
{
	static struct db_stmt	 find = DB_STMT(
	    "select (select login_failures_now(failures, last_failure, $3::int)"
	    "  from login_throttle where addr = $2),"
	    " s.id, s.password_hash, s.disabled, s.totp_sealed,"
	    " s.totp_last_step, s.locked_until > now(), s.role, k.id"
	    " from (values (1)) as one left join staff s on s.login = $1"
	    " left join staff_keys k on k.staff_id = s.id"
	    "  and k.fingerprint = $4 and k.key_blob = $5::bytea");
	enum { FIND_ADDR_FAILURES, FIND_ID, FIND_HASH, FIND_DISABLED,
	    FIND_TOTP_SEALED, FIND_TOTP_LAST_STEP, FIND_LOCKED, FIND_ROLE,
	    FIND_KEY };
	char			 decay[16], *blob = NULL;
	PGresult		*res;

	snprintf(decay, sizeof decay, "%d", server_cfg.login_failure_decay);
	if (a->key != NULL)
		blob = crypto_bytea_hex(a->key->blob, a->key->len);
	res = db_queryv(w->db, &find, a->login, a->addr, decay,
	    a->key != NULL ? a->key->fingerprint : NULL, blob);
	free(blob);
	if (res == NULL) {
		req_db_error(req, w->db);
		return -1;
	}
	a->res = res;
	a->throttled = !PQgetisnull(res, 0, FIND_ADDR_FAILURES) &&
	    db_get_int(res, 0, FIND_ADDR_FAILURES) >=
	    server_cfg.login_addr_max_failures;
	if (PQgetisnull(res, 0, FIND_ID)) {
		if (a->password != NULL)
			password_dummy_verify(a->password);
		return 0;
	}
	a->staff_id = db_get(res, 0, FIND_ID);
	a->key_id = db_get(res, 0, FIND_KEY);
	if (a->password != NULL)
		a->credential_ok = password_verify(a->password, db_get(res, 0,
		    FIND_HASH));
	else
		a->credential_ok = a->key_id != NULL;
	a->role = proto_role_lookup(db_get(res, 0, FIND_ROLE));
	a->totp = !PQgetisnull(res, 0, FIND_TOTP_SEALED);
	a->totp_ok = a->totp && a->code != NULL &&
	    session_totp_check(a->staff_id, db_get(res, 0, FIND_TOTP_SEALED),
	    db_get(res, 0, FIND_TOTP_LAST_STEP), a->code, &a->step);
	a->locked = db_get_bool(res, 0, FIND_LOCKED);
	a->disabled = db_get_bool(res, 0, FIND_DISABLED);
	return 0;
}

/* Why the account or its credential is refused, before any TOTP code,
 * in English for the log; NULL if neither is. */
static const char *
login_refusal_credential(const struct login_attempt *a)
{
	if (a->throttled)
		return "too many failures from this address";
	if (a->staff_id == NULL)
		return "unknown login";
	if (a->locked)
		return "account locked";
	if (!a->credential_ok)
		return a->key != NULL ? "key not registered for this login" :
		    "wrong password";
	if (a->disabled)
		return "account disabled";
	return NULL;
}

/* Why the attempt fails, in English for the log; NULL if it does not. */
static const char *
login_refusal(const struct login_attempt *a)
{
	const char	*why;

	if ((why = login_refusal_credential(a)) != NULL)
		return why;
	if (a->totp && a->code == NULL)
		return "TOTP code missing";
	if (a->totp && !a->totp_ok)
		return "TOTP code wrong or already used";
	return NULL;
}

/* Count a failure. A locked account is not counted further (its lock
 * would grow without a guess being tried), nor an attempt the address
 * throttle stopped before any check. A key refused is no guess either:
 * the gateway has checked that its client holds it, so only a wrong
 * TOTP code after a good key counts. */
static void
login_failed(struct worker *w, const struct login_attempt *a)
{
	int	count_account;

	if (a->key != NULL && login_refusal_credential(a) != NULL)
		return;
	count_account = a->staff_id != NULL && !a->throttled && !a->locked &&
	    (!a->credential_ok || (a->totp && !a->disabled));
	session_failed(w, count_account ? a->staff_id : NULL,
	    a->throttled ? NULL : a->addr);
}

/*
 * Open the session: a new token, its hash stored, the failures cleared
 * and the TOTP step spent. 1 when done (the reply is set), 0 when another
 * login spent this TOTP step first or the key was removed meanwhile, -1
 * on a database error (set).
 */
static int
login_start(struct worker *w, struct request *req,
    const struct login_attempt *a)
{
	/* The step condition makes a TOTP code good once even when two
	 * instances check it at the same moment: one update wins. */
	static struct db_stmt	 start = DB_STMT(
	    "with ok as (update staff set failed_logins = 0,"
	    "  locked_until = null, last_failed_at = null,"
	    "  totp_last_step = coalesce($4::bigint, totp_last_step)"
	    "  where id = $1 and ($4::bigint is null"
	    "   or totp_last_step is null or totp_last_step < $4::bigint)"
	    "  and ($5::bigint is null or exists (select 1 from staff_keys"
	    "   where id = $5::bigint))"
	    "  returning id)"
	    " insert into staff_sessions (staff_id, token_hash, channel,"
	    "  ssh_key_id)"
	    " select id, $2::bytea, $3::text, $5::bigint from ok returning id");
	enum { START_SESSION };
	char			 token[TOKEN_LEN], hash[TOKEN_HASH_LEN];
	char			 stepbuf[24];
	PGresult		*ins;
	struct session		*s;
	int			 done = -1;

	token_new(token, hash);
	snprintf(stepbuf, sizeof stepbuf, "%lld", (long long)a->step);
	if ((ins = db_queryv(w->db, &start, a->staff_id, hash, a->channel,
	    a->totp ? stepbuf : NULL, a->key_id)) == NULL) {
		req_db_error(req, w->db);
		goto out;
	}
	if (PQntuples(ins) == 0) {
		PQclear(ins);
		done = 0;
		goto out;
	}
	s = session_load(w, db_get_int(ins, 0, START_SESSION), a->staff_id);
	PQclear(ins);
	if (s == NULL) {
		req_db_error(req, w->db);
		goto out;
	}
	if (a->key != NULL)
		log_info("%s logged in as %s with SSH key %s from %s "
		    "(session %lld)", a->login, proto_role_name(s->role),
		    a->key->fingerprint, a->from, (long long)s->id);
	else
		log_info("%s logged in as %s (session %lld)", a->login,
		    proto_role_name(s->role), (long long)s->id);
	req->result = session_describe(s, token);
	req->new_session = s;
	done = 1;
out:
	OPENSSL_cleanse(token, sizeof token);
	return done;
}

/* Refuse the attempt: the log says why, the client gets one answer. */
static void
login_refused(struct request *req, const struct login_attempt *a,
    const char *why)
{
	/* An unknown login is not logged: people type their password in
	 * the login field by mistake. */
	if (a->key != NULL && a->staff_id != NULL)
		log_warnx("SSH key %s refused for %s from %s: %s",
		    a->key->fingerprint, a->login, a->from, why);
	else if (a->key != NULL)
		log_warnx("SSH key %s refused for an unknown login from %s: %s",
		    a->key->fingerprint, a->from, why);
	else if (a->staff_id != NULL)
		log_warnx("login refused for %s from %s: %s", a->login, a->from,
		    why);
	else
		log_warnx("login refused for an unknown login from %s: %s",
		    a->from, why);
	if (a->key == NULL)
		req_error(req, E_AUTH, LOGIN_REFUSED);
	else if (a->totp && login_refusal_credential(a) == NULL)
		req_error(req, E_AUTH, KEY_TOTP_REFUSED);
	else
		req_error(req, E_AUTH, KEY_REFUSED);
}

/*
 * The attempt once read: refused, counted and answered, or its session
 * opened. The one answer other than a refusal, TOTP required by the role
 * but not enrolled, comes after a good credential only: the holder
 * learns what to do, a guesser nothing more than a wrong password.
 */
static void
login_conclude(struct worker *w, struct request *req,
    struct login_attempt *a)
{
	const char	*why;

	if ((why = login_refusal(a)) == NULL &&
	    !a->totp && (server_cfg.totp_roles & a->role)) {
		/* Not a failure to count: the credential was right. */
		log_warnx("login refused for %s from %s: TOTP is required for "
		    "the role %s and none is enrolled", a->login, a->from,
		    proto_role_name(a->role));
		req_error(req, E_AUTH, "Connexion refusée : votre rôle exige "
		    "un code de vérification (TOTP) et aucun n'est encore "
		    "configuré pour votre compte. Demandez à un administrateur "
		    "de l'activer (ecadmctl staff totp %s).", a->login);
		return;
	}
	if (why != NULL)
		login_failed(w, a);
	else {
		switch (login_start(w, req, a)) {
		case 1:
		case -1:
			return;
		}
		/* Another login took this step first, or (no TOTP) the key
		 * went between the two statements. */
		if (a->totp) {
			why = "TOTP code already used";
			session_failed(w, a->staff_id, a->addr);
		} else
			why = "SSH key removed meanwhile";
	}
	login_refused(req, a, why);
}

/* Read the attempt, then conclude it. */
static void
login_run(struct worker *w, struct request *req, struct login_attempt *a)
{
	if (req->session != NULL) {
		req_error(req, E_INVALID, "Déjà connecté.");
		return;
	}
	if (login_find(w, req, a) == 0)
		login_conclude(w, req, a);
	PQclear(a->res);
}

/*
 * A login. Whatever is wrong (unknown login, wrong password, account
 * locked or disabled, TOTP code missing, wrong or used, too many failures
 * from the address) the client gets the same E_AUTH message after the same
 * work, one scrypt verification: neither the answer nor its time tells
 * which logins exist, which have TOTP or which are locked. Only the log,
 * for operators, says why (never the password nor the code).
 */
void
session_login(struct worker *w, struct request *req)
{
	struct login_attempt	 a;
	char			 addrkey[ADDR_KEY_LEN];

	memset(&a, 0, sizeof a);
	a.step = -1;
	a.login = req_arg_str(req, "login", 1);
	a.password = req_arg_str(req, "password", 1);
	a.code = req_arg_str(req, "totp", 0);
	if (req->error != -1)
		return;
	a.from = req->addr;
	a.channel = req->channel;
	/* A front end (ecadm-sshd) brings all its users from one address
	 * and limits its own clients: only direct clients are counted. */
	if (req->peer == PEER_CLIENT) {
		session_addr_key(req->addr, addrkey);
		a.addr = addrkey;
	}
	login_run(w, req, &a);
}

int
session_key_check(struct worker *w, struct request *req, const char *login,
    const struct sshkey *key, const char *addr, int *totp)
{
	struct login_attempt	 a;
	const char		*why;
	int			 r = -1;

	memset(&a, 0, sizeof a);
	a.login = login;
	a.key = key;
	a.from = addr;
	if (login_find(w, req, &a) == -1)
		return -1;
	if ((why = login_refusal_credential(&a)) != NULL)
		login_refused(req, &a, why);
	else {
		log_info("SSH key %s of %s offered from %s%s", key->fingerprint,
		    login, addr, a.totp ? " (TOTP to ask)" : "");
		*totp = a.totp;
		r = 0;
	}
	PQclear(a.res);
	return r;
}

void
session_key_login(struct worker *w, struct request *req, const char *login,
    const struct sshkey *key, const char *addr, const char *code)
{
	struct login_attempt	 a;
	char			 addrkey[ADDR_KEY_LEN];

	memset(&a, 0, sizeof a);
	a.step = -1;
	a.login = login;
	a.key = key;
	a.code = code;
	a.from = addr;
	a.channel = "ssh";
	/* The gateway's client is counted by its own address. */
	session_addr_key(addr, addrkey);
	a.addr = addrkey;
	login_run(w, req, &a);
}

void
session_resume(struct worker *w, struct request *req)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "update staff_sessions s set last_seen = now() from staff st"
	    " where s.token_hash = $1 and s.ended_at is null"
	    " and s.last_seen > now() - make_interval(mins => $2::int)"
	    " and s.created_at > now() - make_interval(hours => $3::int)"
	    " and st.id = s.staff_id and not st.disabled"
	    " returning s.id, s.staff_id");
	enum { RESUME_SESSION, RESUME_STAFF };
	const char		*token;
	char			 hash[67], idle[16], lifetime[16];
	PGresult		*res;
	struct session		*s;

	if ((token = req_arg_str(req, "token", 1)) == NULL)
		return;
	if (req->session != NULL) {
		req_error(req, E_INVALID, "Déjà connecté.");
		return;
	}
	token_hash_literal(token, hash);
	snprintf(idle, sizeof idle, "%d", server_cfg.session_idle);
	snprintf(lifetime, sizeof lifetime, "%d", server_cfg.session_lifetime);
	if ((res = db_queryv(w->db, &stmt, hash, idle, lifetime)) == NULL) {
		req_db_error(req, w->db);
		return;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		req_error(req, E_AUTH, "Session expirée : reconnectez-vous.");
		return;
	}
	s = session_load(w, db_get_int(res, 0, RESUME_SESSION), db_get(res, 0,
	    RESUME_STAFF));
	PQclear(res);
	if (s == NULL) {
		req_db_error(req, w->db);
		return;
	}
	log_info("%s resumed session %lld", s->login, (long long)s->id);
	req->result = session_describe(s, NULL);
	req->new_session = s;
}

void
session_logout(struct worker *w, struct request *req)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "update staff_sessions set ended_at = now() where id = $1");
	PGresult		*res;
	char			 id[24];

	snprintf(id, sizeof id, "%lld", (long long)req->session->id);
	if ((res = db_queryv(w->db, &stmt, id)) == NULL) {
		req_db_error(req, w->db);
		return;
	}
	PQclear(res);
	log_info("%s logged out", req->session->login);
	req->end_session = 1;
}

int
session_refresh(struct worker *w, struct request *req)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "update staff_sessions s set last_seen = now() from staff st"
	    " where s.id = $1 and s.ended_at is null"
	    " and s.last_seen > now() - make_interval(mins => $2::int)"
	    " and s.created_at > now() - make_interval(hours => $3::int)"
	    " and st.id = s.staff_id and not st.disabled"
	    " returning st.role");
	enum { REFRESH_ROLE };
	struct session		*s = req->session;
	char			 id[24], idle[16], lifetime[16];
	PGresult		*res;
	unsigned		 epoch = atomic_load(&session_epoch);

	if (s->epoch == epoch &&
	    timespec_since(&s->checked) < server_cfg.session_check)
		return 0;
	snprintf(id, sizeof id, "%lld", (long long)s->id);
	snprintf(idle, sizeof idle, "%d", server_cfg.session_idle);
	snprintf(lifetime, sizeof lifetime, "%d", server_cfg.session_lifetime);
	if ((res = db_queryv(w->db, &stmt, id, idle, lifetime)) == NULL) {
		req_db_error(req, w->db);
		return -1;
	}
	if (PQntuples(res) == 0 ||
	    proto_role_lookup(db_get(res, 0, REFRESH_ROLE)) != s->role) {
		PQclear(res);
		log_info("session of %s has ended", s->login);
		req->end_session = 1;
		req_error(req, E_AUTH, "Session expirée : reconnectez-vous.");
		return -1;
	}
	PQclear(res);
	clock_gettime(CLOCK_MONOTONIC, &s->checked);
	s->epoch = epoch;
	return 0;
}
