#!/usr/bin/env bash
# Generates the TLS material the tests use, under a throw-away test CA, into
# the folder given as $1 (created if missing). EC P-256 keys keep it fast.
#
#   ca.pem                 the test CA the client is told to trust
#   server.pem/-key.pem    valid for localhost, 127.0.0.1 and ::1
#   expired.pem            valid names, validity ended yesterday
#   not-yet-valid.pem      valid names, validity starts in ten years
#   wrong-host.pem         valid, but only for other.example
#   self-signed.pem        valid names, signed by its own key
#   unknown-ca.pem         valid names, signed by a CA the client does not know
#   client.pem/-key.pem    a client certificate signed by the test CA
# Every *.pem certificate except ca.pem has its key beside it as *-key.pem.
set -euo pipefail
dir=${1:?usage: make-test-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

names='subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1'
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

make_ca() { # name subject
  newkey "$1-key.pem"
  openssl req -x509 -new -key "$1-key.pem" -subj "/CN=$2" -days 2 -out "$1.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

# openssl ca is the only OpenSSL 3.0 command that takes an explicit start
# date, which the expired and not-yet-valid certificates need.
sign() { # name ca subject san startdate enddate [extendedKeyUsage]
  local name=$1 ca=$2 subject=$3 san=$4 start=$5 end=$6 eku=${7:-serverAuth}
  newkey "$name-key.pem"
  openssl req -new -key "$name-key.pem" -subj "/CN=$subject" -out "$name.csr"
  mkdir -p "ca-db-$ca"
  : > "ca-db-$ca/index.txt"
  [ -f "ca-db-$ca/serial" ] || printf '%s\n' "$(openssl rand -hex 8)" > "ca-db-$ca/serial"
  cat > "$name.cnf" <<CNF
[ca]
default_ca = test_ca
[test_ca]
database = ca-db-$ca/index.txt
serial = ca-db-$ca/serial
new_certs_dir = ca-db-$ca
certificate = $ca.pem
private_key = $ca-key.pem
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
x509_extensions = ext
[any]
commonName = supplied
[ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = $eku
$san
CNF
  openssl ca -batch -notext -config "$name.cnf" -in "$name.csr" -out "$name.pem" \
    -startdate "$start" -enddate "$end" 2>/dev/null
  rm -f "$name.csr" "$name.cnf"
}

utc() { date -u -d "$1" +%Y%m%d%H%M%SZ; }
now_minus=$(utc '1 hour ago')
tomorrow=$(utc 'tomorrow')

make_ca ca test-ca
make_ca other-ca unknown-test-ca

sign server ca localhost "$names" "$now_minus" "$tomorrow"
sign expired ca localhost "$names" "$(utc '3 days ago')" "$(utc 'yesterday')"
sign not-yet-valid ca localhost "$names" "$(utc '10 years')" "$(utc '11 years')"
sign wrong-host ca other.example 'subjectAltName=DNS:other.example' "$now_minus" "$tomorrow"
sign unknown-ca other-ca localhost "$names" "$now_minus" "$tomorrow"
sign client ca test-client 'subjectAltName=email:client@example.org' "$now_minus" "$tomorrow" clientAuth

newkey self-signed-key.pem
openssl req -x509 -new -key self-signed-key.pem -subj /CN=localhost -days 2 \
  -addext "$names" -out self-signed.pem

rm -rf ca-db-ca ca-db-other-ca other-ca-key.pem
# Postfix and Dovecot helpers run as unprivileged users: let them read these.
chmod 0644 ./*.pem
