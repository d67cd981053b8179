/*
 * Staff sessions. A login checks the scrypt hash (with a lockout that grows
 * after repeated failures), then records a session in the database and
 * returns its token; only the token's SHA-256 is stored. The connection
 * caches the session; the gate confirms it against the database every
 * session_check seconds (idle expiry, logout elsewhere, staff disabled), so
 * any instance of ecadmd can serve any session and nothing is lost on a
 * restart: a client reconnects with "resume" and its token.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "db.h"
#include "log.h"
#include "password.h"
#include "server.h"
#include "totp.h"
#include "xmalloc.h"

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

static void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

/* The bytea literal of a token's SHA-256, for queries: "\x<hex>". */
static void
token_hash_literal(const char *token, char out[2 + 64 + 1])
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
	static struct db_stmt	 schools_stmt = DB_STMT(
	    "select sc.id, sc.uai, sc.name, sc.town from staff_schools ss"
	    " join schools sc on sc.id = ss.school_id"
	    " where ss.staff_id = $1 order by sc.uai");
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
	s->staff_id = (int)db_get_int(res, 0, 0);
	s->login = xstrdup(db_get(res, 0, 1));
	s->name = xstrdup(db_get(res, 0, 2));
	s->role = proto_role_lookup(db_get(res, 0, 3));
	PQclear(res);

	if ((res = db_queryv(w->db, &schools_stmt, staff_id)) == NULL) {
		session_free(s);
		return NULL;
	}
	s->nschools = (size_t)PQntuples(res);
	if (s->nschools > 0)
		s->schools = xcalloc(s->nschools, sizeof *s->schools);
	for (i = 0; i < PQntuples(res); i++) {
		s->schools[i].id = (int)db_get_int(res, i, 0);
		snprintf(s->schools[i].uai, sizeof s->schools[i].uai, "%s",
		    db_get(res, i, 1));
		if (db_get(res, i, 2) != NULL)
			s->schools[i].name = xstrdup(db_get(res, i, 2));
		if (db_get(res, i, 3) != NULL)
			s->schools[i].town = xstrdup(db_get(res, i, 3));
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

/* Record a failed login and lock the account for a while once failures
 * pile up: 30 s after the limit, doubling, at most an hour. */
static void
session_failed(struct worker *w, const char *staff_id)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "update staff set failed_logins = failed_logins + 1,"
	    " locked_until = case when failed_logins + 1 >= $2::int"
	    "  then now() + least(interval '1 hour', interval '30 seconds'"
	    "   * power(2, failed_logins + 1 - $2::int))"
	    "  else locked_until end"
	    " where id = $1");
	PGresult		*res;
	char			 max[16];

	snprintf(max, sizeof max, "%d", server_cfg.login_max_failures);
	if ((res = db_queryv(w->db, &stmt, staff_id, max)) != NULL)
		PQclear(res);
}

void
session_login(struct worker *w, struct request *req)
{
	static struct db_stmt	 find = DB_STMT(
	    "select id, password_hash, disabled, totp_secret,"
	    " locked_until > now(),"
	    " to_char(locked_until at time zone 'Europe/Paris', 'HH24:MI')"
	    " from staff where login = $1");
	static struct db_stmt	 start = DB_STMT(
	    "with ok as (update staff set failed_logins = 0,"
	    "  locked_until = null where id = $1)"
	    " insert into staff_sessions (staff_id, token_hash, channel)"
	    " values ($1, $2, $3) returning id");
	const char		*login, *password, *code, *staff_id;
	unsigned char		 raw[32];
	char			 token[65], hash[67];
	PGresult		*res = NULL, *ins;
	struct session		*s;
	int			 ok;

	login = req_arg_str(req, "login", 1);
	password = req_arg_str(req, "password", 1);
	code = req_arg_str(req, "totp", 0);
	if (req->error != -1)
		return;
	if (req->session != NULL) {
		req_error(req, E_INVALID, "Déjà connecté.");
		return;
	}
	if ((res = db_queryv(w->db, &find, login)) == NULL) {
		req_db_error(req, w->db);
		return;
	}
	if (PQntuples(res) == 0) {
		/* Same cost as a real check: logins cannot be probed. */
		password_dummy_verify(password);
		log_warnx("login failed for unknown user");
		req_error(req, E_AUTH, NULL);
		goto out;
	}
	staff_id = db_get(res, 0, 0);
	if (db_get_bool(res, 0, 4)) {
		log_warnx("login refused for %s: locked", login);
		req_error(req, E_AUTH, "Trop de tentatives : connexion "
		    "bloquée jusqu'à %s.", db_get(res, 0, 5));
		goto out;
	}
	ok = password_verify(password, db_get(res, 0, 1));
	if (ok && db_get(res, 0, 3) != NULL)
		ok = code != NULL && totp_verify(db_get(res, 0, 3), code);
	if (!ok) {
		session_failed(w, staff_id);
		log_warnx("login failed for %s", login);
		req_error(req, E_AUTH, db_get(res, 0, 3) != NULL &&
		    code == NULL ? "Code de vérification (TOTP) requis." :
		    NULL);
		goto out;
	}
	if (db_get_bool(res, 0, 2)) {
		log_warnx("login refused for %s: disabled", login);
		req_error(req, E_AUTH, "Compte désactivé.");
		goto out;
	}

	if (RAND_bytes(raw, sizeof raw) != 1)
		fatalx("RAND_bytes failed");
	hex_encode(raw, sizeof raw, token);
	token_hash_literal(token, hash);
	if ((ins = db_queryv(w->db, &start, staff_id, hash,
	    req->channel)) == NULL) {
		req_db_error(req, w->db);
		goto out;
	}
	s = session_load(w, db_get_int(ins, 0, 0), staff_id);
	PQclear(ins);
	if (s == NULL) {
		req_db_error(req, w->db);
		goto out;
	}
	log_info("%s logged in as %s (session %lld)", login,
	    proto_role_name(s->role), (long long)s->id);
	req->result = session_describe(s, token);
	req->new_session = s;
out:
	OPENSSL_cleanse(token, sizeof token);
	PQclear(res);
}

void
session_resume(struct worker *w, struct request *req)
{
	static struct db_stmt	 stmt = DB_STMT(
	    "update staff_sessions s set last_seen = now() from staff st"
	    " where s.token_hash = $1 and s.ended_at is null"
	    " and s.last_seen > now() - make_interval(mins => $2::int)"
	    " and st.id = s.staff_id and not st.disabled"
	    " returning s.id, s.staff_id");
	const char		*token;
	char			 hash[67], idle[16];
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
	if ((res = db_queryv(w->db, &stmt, hash, idle)) == NULL) {
		req_db_error(req, w->db);
		return;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		req_error(req, E_AUTH, "Session expirée : reconnectez-vous.");
		return;
	}
	s = session_load(w, db_get_int(res, 0, 0), db_get(res, 0, 1));
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
	    " and st.id = s.staff_id and not st.disabled"
	    " returning st.role");
	struct session		*s = req->session;
	char			 id[24], idle[16];
	PGresult		*res;
	unsigned		 epoch = atomic_load(&session_epoch);

	if (s->epoch == epoch &&
	    timespec_since(&s->checked) < server_cfg.session_check)
		return 0;
	snprintf(id, sizeof id, "%lld", (long long)s->id);
	snprintf(idle, sizeof idle, "%d", server_cfg.session_idle);
	if ((res = db_queryv(w->db, &stmt, id, idle)) == NULL) {
		req_db_error(req, w->db);
		return -1;
	}
	if (PQntuples(res) == 0 ||
	    proto_role_lookup(db_get(res, 0, 0)) != s->role) {
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
