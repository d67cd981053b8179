#!/bin/sh
# mkcerts.sh DIR: a throwaway certificate authority for a demo or a test
# run, the server's certificate (localhost, 127.0.0.1, ::1) and the client
# certificates of the two front-end daemons (CN ecadm-sshd, ecadm-guichet).
# Keys are written mode 0600. Never commit what this makes.
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
umask 077

key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1" 2>/dev/null
}

key ca.key
openssl req -x509 -new -key ca.key -days 3650 -sha256 \
    -subj "/O=Responsables/CN=Responsables demo CA" -out ca.crt \
    -addext "basicConstraints=critical,CA:true" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"

sign() {	# name CN extensions
	key "$1.key"
	openssl req -new -key "$1.key" -subj "/O=Responsables/CN=$2" \
	    -out "$1.csr"
	printf '%s\n' "$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key \
	    -CAcreateserial -days 825 -sha256 -extfile "$1.ext" \
	    -out "$1.crt" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

sign server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth"
sign sshd ecadm-sshd "extendedKeyUsage=clientAuth"
sign guichet ecadm-guichet "extendedKeyUsage=clientAuth"
chmod 644 ca.crt server.crt sshd.crt guichet.crt
rm -f ca.srl
