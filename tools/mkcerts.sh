#!/bin/sh
# mkcerts.sh DIR: throwaway certificate authorities for a demo or a test
# run: ca.crt signs the server's certificate (localhost, 127.0.0.1, ::1);
# peer-ca.crt signs only the client certificates of the two front-end
# daemons, whose kind is named by a URI in their subjectAltName
# (urn:ecadm:peer:sshd, urn:ecadm:peer:guichet): ecadmd trusts peer-ca.crt
# alone for clients, so no server or user certificate can pass for a
# front end. Keys are written mode 0600. Never commit what this makes.
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
umask 077

key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$1" 2>/dev/null
}

ca() {		# name CN
	key "$1.key"
	openssl req -x509 -new -key "$1.key" -days 3650 -sha256 \
	    -subj "/O=Responsables/CN=$2" -out "$1.crt" \
	    -addext "basicConstraints=critical,CA:true" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign"
}

sign() {	# name CN extensions CA
	key "$1.key"
	openssl req -new -key "$1.key" -subj "/O=Responsables/CN=$2" \
	    -out "$1.csr"
	printf '%s\n' "$3" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$4.crt" -CAkey "$4.key" \
	    -CAcreateserial -days 825 -sha256 -extfile "$1.ext" \
	    -out "$1.crt" 2>/dev/null
	rm -f "$1.csr" "$1.ext"
}

ca ca "Responsables demo CA"
ca peer-ca "Responsables front-end CA"
sign server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth" ca
sign sshd ecadm-sshd "subjectAltName=URI:urn:ecadm:peer:sshd
extendedKeyUsage=clientAuth" peer-ca
sign guichet ecadm-guichet "subjectAltName=URI:urn:ecadm:peer:guichet
extendedKeyUsage=clientAuth" peer-ca
chmod 644 ca.crt peer-ca.crt server.crt sshd.crt guichet.crt
rm -f ca.srl peer-ca.srl
