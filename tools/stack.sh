#!/bin/sh
# stack.sh start|stop|demo|status: the Responsables stack of this checkout,
# everything under var/ (never committed).
#
#   start  a private PostgreSQL cluster, certificates from a generated CA,
#          the schema, the demo academy loaded once, ecadmd on loopback in
#          the background, and var/env for scripts (DESIGN.md §11)
#   demo   start, then open ecadm on the demo school, and print the ssh
#          command that opens it through ecadm-sshd with the demo key
#   stop   stop the daemons and PostgreSQL
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
var=$top/var
build=$top/${BUILD:-build}
pg_port=${ECADM_PG_PORT:-54329}
port=${ECADM_PORT:-7443}
guichet_port=${ECADM_GUICHET_PORT:-8080}
ssh_port=${ECADM_SSH_PORT:-2222}
metrics_port=${ECADM_METRICS_PORT:-7444}
director=dir.demo
helpdesk=assistance.demo
admin=admin

say() { printf '%s\n' "$*"; }

# Whether the process in a pid file is alive.
running() {
	[ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

wait_port() {
	i=0
	while ! /usr/bin/python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			say "stack: nothing listens on port $1; see $2" >&2
			exit 1
		fi
		sleep 0.1
	done
}

ctl() {	# user password args...
	u=$1 p=$2
	shift 2
	ECADM_PASSWORD=$p "$build/ecadmctl" --server "127.0.0.1:$port" \
	    --ca "$var/tls/ca.crt" --user "$u" "$@"
}

secret() {	# name: the stored demo password
	cat "$var/secrets/$1"
}

start() {
	mkdir -p "$var/log" "$var/run" "$var/mail/new" "$var/mail/cur" \
	    "$var/mail/tmp" "$var/demo" "$var/secrets"
	chmod 755 "$var"
	chmod 700 "$var/secrets"

	if [ ! -d "$var/pg/data" ]; then
		say "stack: creating the PostgreSQL cluster in var/pg"
		mkdir -p "$var/pg"
		chmod 755 "$var/pg"
		sh "$top/tools/pgcluster.sh" "$var/pg" "$pg_port" init
	fi
	if ! sh "$top/tools/pgcluster.sh" "$var/pg" "$pg_port" status 2>/dev/null; then
		sh "$top/tools/pgcluster.sh" "$var/pg" "$pg_port" start
	fi
	[ -f "$var/tls/peer-ca.crt" ] || sh "$top/tools/mkcerts.sh" "$var/tls"

	dburl="postgresql:///ecadm?host=$var/pg/run&port=$pg_port&user=ecadm"
	cat >"$var/ecadmd.ini" <<EOF2
# Written by tools/stack.sh for this checkout; see doc/ecadmd.8.
[server]
listen = 127.0.0.1:$port
workers = 4
[tls]
certificate = $var/tls/server.crt
key = $var/tls/server.key
peer_ca = $var/tls/peer-ca.crt
[database]
url = $dburl
[security]
key_file = $var/secrets/server.key
[documents]
guichet_url = http://127.0.0.1:$guichet_port/
[mail]
maildir = $var/mail
[metrics]
listen = 127.0.0.1:$metrics_port
EOF2
	"$build/ecadmd" -c "$var/ecadmd.ini" migrate 2>>"$var/log/ecadmd.log"

	if running "$var/run/ecadmd.pid"; then
		say "stack: ecadmd already running"
	else
		"$build/ecadmd" -c "$var/ecadmd.ini" serve \
		    >>"$var/log/ecadmd.log" 2>&1 &
		echo $! >"$var/run/ecadmd.pid"
		wait_port "$port" "$var/log/ecadmd.log"
	fi

	if [ ! -f "$var/demo/loaded" ]; then
		say "stack: loading the demo academy through the import"
		/usr/bin/python3 "$top/tools/gen-onde.py" --schools 3 \
		    --pupils 240 -o "$var/demo/onde.csv"
		(umask 077
		"$build/ecadmd" -c "$var/ecadmd.ini" init-admin "$admin" \
		    2>>"$var/log/ecadmd.log" | cut -d' ' -f2 >"$var/secrets/$admin"
		ctl "$admin" "$(secret $admin)" import "$var/demo/onde.csv"
		ctl "$admin" "$(secret $admin)" --json staff add "$director" \
		    --role directeur --school "$(demo_uai)" \
		    --name "Claire Demonet" |
		    sed -n 's/.*"password": "\(.*\)".*/\1/p' >"$var/secrets/$director"
		ctl "$admin" "$(secret $admin)" --json staff add "$helpdesk" \
		    --role assistance --name "Hugo Assistance" |
		    sed -n 's/.*"password": "\(.*\)".*/\1/p' >"$var/secrets/$helpdesk")
		touch "$var/demo/loaded"
	fi
	start_guichet
	start_sshd
	write_env "$dburl"
}

start_guichet() {
	cat >"$var/ecadm-guichet.ini" <<EOF2
# Written by tools/stack.sh for this checkout; see doc/ecadm-guichet.8.
[http]
listen = 127.0.0.1:$guichet_port
public_url = http://127.0.0.1:$guichet_port/
csrf_key_file = $var/secrets/guichet-csrf.key
[ecadmd]
server = 127.0.0.1:$port
ca = $var/tls/ca.crt
certificate = $var/tls/guichet.crt
key = $var/tls/guichet.key
EOF2
	if running "$var/run/ecadm-guichet.pid"; then
		say "stack: ecadm-guichet already running"
	else
		"$build/ecadm-guichet" -c "$var/ecadm-guichet.ini" \
		    >>"$var/log/ecadm-guichet.log" 2>&1 &
		echo $! >"$var/run/ecadm-guichet.pid"
		wait_port "$guichet_port" "$var/log/ecadm-guichet.log"
	fi
}

start_sshd() {
	cat >"$var/ecadm-sshd.ini" <<EOF2
# Written by tools/stack.sh for this checkout; see doc/ecadm-sshd.8.
[ssh]
listen = 127.0.0.1:$ssh_port
host_key = $var/secrets/ssh_host_ed25519_key
[session]
ecadm = $build/ecadm
documents = $var/ssh-documents
[ecadmd]
server = 127.0.0.1:$port
ca = $var/tls/ca.crt
certificate = $var/tls/sshd.crt
key = $var/tls/sshd.key
EOF2
	if running "$var/run/ecadm-sshd.pid"; then
		say "stack: ecadm-sshd already running"
	else
		"$build/ecadm-sshd" -c "$var/ecadm-sshd.ini" \
		    >>"$var/log/ecadm-sshd.log" 2>&1 &
		echo $! >"$var/run/ecadm-sshd.pid"
		wait_port "$ssh_port" "$var/log/ecadm-sshd.log"
	fi
	# The demo director's key: made once, registered every time (adding
	# a key already there changes nothing).
	[ -f "$var/secrets/demo_ed25519" ] ||
	    ssh-keygen -q -t ed25519 -N '' -C "$director@demo" \
		-f "$var/secrets/demo_ed25519"
	ctl "$admin" "$(secret $admin)" staff set-key "$director" \
	    "$var/secrets/demo_ed25519.pub" >/dev/null
}

demo_ssh() {
	say "ssh -t -i $var/secrets/demo_ed25519 -p $ssh_port" \
	    "-o UserKnownHostsFile=$var/known_hosts" \
	    "-o StrictHostKeyChecking=accept-new $director@127.0.0.1"
}

demo_uai() {
	sed -n '2s/^\([^;]*\);.*/\1/p' "$var/demo/onde.csv"
}

write_env() {
	(umask 077
	cat >"$var/env" <<EOF2
# Written by tools/stack.sh (make serve): the demo stack of this checkout.
export ECADM_SERVER=127.0.0.1:$port
export ECADM_CA=$var/tls/ca.crt
export ECADM_MAILDIR=$var/mail
export ECADM_DATABASE_URL='$1'
export ECADM_DEMO_UAI=$(demo_uai)
export ECADM_ADMIN_USER=$admin
export ECADM_ADMIN_PASSWORD=$(secret $admin)
export ECADM_DIRECTOR_USER=$director
export ECADM_DIRECTOR_PASSWORD=$(secret $director)
export ECADM_HELPDESK_USER=$helpdesk
export ECADM_HELPDESK_PASSWORD=$(secret $helpdesk)
export ECADM_GUICHET_URL=http://127.0.0.1:$guichet_port/
export ECADM_SSH_PORT=$ssh_port
export ECADM_SSH_KEY=$var/secrets/demo_ed25519
export ECADM_METRICS_URL=http://127.0.0.1:$metrics_port/metrics
EOF2
	)
	say "stack: ecadmd on 127.0.0.1:$port, the guichet on" \
	    "http://127.0.0.1:$guichet_port/, ecadm-sshd on port $ssh_port," \
	    "metrics on http://127.0.0.1:$metrics_port/metrics;" \
	    "settings in var/env"
}

stop_pid() {	# name
	if running "$var/run/$1.pid"; then
		kill -TERM "$(cat "$var/run/$1.pid")"
		i=0
		while running "$var/run/$1.pid" && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	rm -f "$var/run/$1.pid"
}

stop() {
	stop_pid ecadm-sshd
	stop_pid ecadm-guichet
	if running "$var/run/ecadmd.pid"; then
		kill -TERM "$(cat "$var/run/ecadmd.pid")"
		i=0
		while running "$var/run/ecadmd.pid" && [ $i -lt 100 ]; do
			sleep 0.1
			i=$((i + 1))
		done
	fi
	rm -f "$var/run/ecadmd.pid"
	if [ -d "$var/pg/data" ]; then
		sh "$top/tools/pgcluster.sh" "$var/pg" "$pg_port" stop
	fi
	say "stack: stopped"
}

case ${1:-} in
start)
	start
	;;
stop)
	stop
	;;
demo)
	start
	. "$var/env"
	ECADM_USER=$ECADM_DIRECTOR_USER \
	ECADM_LOGIN_HINT="Démo : $ECADM_DIRECTOR_USER, mot de passe $ECADM_DIRECTOR_PASSWORD" \
	    "$build/ecadm" || true
	say "stack: the services keep running; 'make stop' stops them."
	say "stack: the demo director over SSH, with the demo key:"
	demo_ssh
	;;
*)
	echo "usage: stack.sh start|stop|demo" >&2
	exit 2
	;;
esac
