#!/bin/sh
# pgcluster.sh DIR PORT init|start|stop|status
#
# A private PostgreSQL 15 cluster in DIR: data in DIR/data, the unix socket
# in DIR/run (mode 0700: only its owner, or root, connects), no TCP unless
# PGCLUSTER_TCP=1 (then 127.0.0.1:PORT, for pgbench over TLS). initdb
# refuses to run as root, so as root the cluster belongs to the postgres
# user and runs through runuser. Trust authentication on the socket is
# safe because only the owner can reach the socket. "init" also creates the
# role and database "ecadm" that the server uses.
set -eu

dir=$1 port=$2 action=$3
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "pgcluster: PostgreSQL server binaries not found" >&2; exit 1; }

as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

psql_su() {
	"$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/run" -p "$port" -U postgres "$@"
}

case $action in
init)
	mkdir -p "$dir/data" "$dir/run"
	chmod 700 "$dir/data" "$dir/run"
	if [ "$(id -u)" -eq 0 ]; then
		chown postgres: "$dir" "$dir/data" "$dir/run"
	fi
	as_owner "$bindir/initdb" -D "$dir/data" -U postgres -E UTF8 \
	    --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 \
	    --no-instructions >"$dir/initdb.log" 2>&1 ||
	    { cat "$dir/initdb.log" >&2; exit 1; }
	;;
start)
	listen="''"
	[ "${PGCLUSTER_TCP:-0}" = 1 ] && listen=127.0.0.1
	opts="-c port=$port -c unix_socket_directories=$dir/run -c listen_addresses=$listen"
	opts="$opts ${PGCLUSTER_OPTS:-}"
	as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
	    -t 60 -o "$opts" start >/dev/null ||
	    { tail -n 20 "$dir/postgres.log" >&2; exit 1; }
	# The server's role and database, once.
	if ! psql_su -d postgres -tAc "select 1 from pg_roles where rolname = 'ecadm'" | grep -q 1; then
		psql_su -d postgres -c "create role ecadm login" \
		    -c "create database ecadm owner ecadm"
	fi
	;;
stop)
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
	fi
	;;
status)
	as_owner "$bindir/pg_ctl" -D "$dir/data" status >/dev/null
	;;
*)
	echo "usage: pgcluster.sh DIR PORT init|start|stop|status" >&2
	exit 2
	;;
esac
