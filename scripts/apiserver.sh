#!/usr/bin/env bash
# Start/stop a local, loopback-only Kubernetes API server (etcd + kube-apiserver)
# for testing controllers and CLIs against the real API machinery.
#
# This script only STARTS binaries that already exist on the machine; scripts/peers.sh
# builds both from their Go modules and prints the KUBE_APISERVER_BIN and ETCD_BIN to set:
#   kube-apiserver  $KUBE_APISERVER_BIN, else $KUBE_BIN/kube-apiserver
#   etcd            $ETCD_BIN, else etcd on PATH
#   python3         for the loopback-only egress guard (see below)
#   openssl, curl   for certificates and the readiness probe
#
# Usage:
#   scripts/apiserver.sh start     # fresh etcd + apiserver, waits for /readyz, writes kubeconfigs
#   scripts/apiserver.sh status    # exit 0 when running and ready
#   scripts/apiserver.sh env       # prints: export KUBECONFIG=<run dir>/admin.kubeconfig
#   scripts/apiserver.sh stop      # stops exactly the processes this script started (pid files)
#   scripts/apiserver.sh restart
#
# Environment (all optional):
#   KUBE_BIN                 dir holding kube-apiserver          (default $HOME/.local/kube/bin)
#   KUBE_APISERVER_BIN       full path to kube-apiserver         (default $KUBE_BIN/kube-apiserver)
#   ETCD_BIN                 full path to etcd                   (default: etcd on PATH)
#   KUBE_APISERVER_PORT      secure port on 127.0.0.1            (default 6443)
#   ETCD_CLIENT_PORT         etcd client port on 127.0.0.1       (default 2379)
#   ETCD_PEER_PORT           etcd peer port on 127.0.0.1         (default 2380)
#   KUBE_RUN_DIR             state dir (certs, tokens, etcd data, logs, kubeconfigs)
#                            (default ${TMPDIR:-/tmp}/kube-apiserver-$KUBE_APISERVER_PORT)
#   KUBE_SERVICE_CIDR        service ClusterIP range             (default 127.0.100.0/24, loopback)
#   KUBE_READY_TIMEOUT       seconds to wait for /readyz         (default 120)
#   KUBE_EGRESS_GUARD        1 = route all outbound apiserver traffic except etcd (service/pod/
#                            node proxy, admission + conversion webhooks, aggregated APIs)
#                            through a CONNECT proxy that only dials loopback destinations;
#                            0 = direct dialing (default 1).
#                            Never set 0 unless no test creates Endpoints, pod IPs, webhooks
#                            or APIServices that point at non-loopback addresses.
#   KUBE_EGRESS_LOOPBACK_MAP IPv4 range the guard rewrites to loopback: 192.0.2.N:P is
#                            dialed as 127.0.0.N:P (default 192.0.2.0/24; empty = off).
#                            Lets tests reach a local process through the service/pod
#                            proxy: Endpoints 192.0.2.1:8080 -> a server on 127.0.0.1:8080.
#   KUBE_APISERVER_EXTRA_ARGS extra kube-apiserver flags (word-split; later flags win)
#   ETCD_EXTRA_ARGS          extra etcd flags (word-split)
#   PYTHON                   python3 interpreter for the egress guard
#
# Files written to the run dir:
#   admin.kubeconfig      user "admin", group system:masters (static token)
#   developer.kubeconfig  user "developer", group "developers", no RBAC bindings -> Forbidden
#   admin.token developer.token tokens.csv ca.crt ca.key apiserver.{crt,key}
#   admin-client.{crt,key}  x509 client cert (CN=local-admin, O=system:masters)
#   sa.key sa.pub         service-account signing key pair
#   etcd/ etcd.log apiserver.log egress-guard.log *.pid
set -euo pipefail

KUBE_BIN=${KUBE_BIN:-$HOME/.local/kube/bin}
APISERVER_BIN=${KUBE_APISERVER_BIN:-$KUBE_BIN/kube-apiserver}
ETCD_BIN=${ETCD_BIN:-$(command -v etcd || true)}
PORT=${KUBE_APISERVER_PORT:-6443}
ETCD_PORT=${ETCD_CLIENT_PORT:-2379}
ETCD_PEER_PORT=${ETCD_PEER_PORT:-2380}
RUN_DIR=${KUBE_RUN_DIR:-${TMPDIR:-/tmp}/kube-apiserver-$PORT}
SERVICE_CIDR=${KUBE_SERVICE_CIDR:-127.0.100.0/24}
READY_TIMEOUT=${KUBE_READY_TIMEOUT:-120}
EGRESS_GUARD=${KUBE_EGRESS_GUARD:-1}
EGRESS_MAP=${KUBE_EGRESS_LOOPBACK_MAP-192.0.2.0/24}
HOST=127.0.0.1

if [[ -z "${PYTHON:-}" ]]; then
  if [[ -x /usr/bin/python3 ]]; then PYTHON=/usr/bin/python3; else PYTHON=$(command -v python3 || true); fi
fi

log() { echo "apiserver.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

port_in_use() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# pid_alive NAME -> 0 when the pid in NAME.pid is alive AND its command line
# mentions our run dir (guards against a recycled pid belonging to someone else).
pid_alive() {
  local f="$RUN_DIR/$1.pid" pid
  [[ -f "$f" ]] || return 1
  pid=$(cat "$f")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$RUN_DIR"
}

stop_one() {
  local name=$1 f="$RUN_DIR/$1.pid" pid i
  [[ -f "$f" ]] || return 0
  pid=$(cat "$f")
  if pid_alive "$name"; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
      pid_alive "$name" || break
      sleep 0.2
    done
    if pid_alive "$name"; then
      log "$name (pid $pid) ignored SIGTERM for 20s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
    log "stopped $name (pid $pid)"
  fi
  rm -f "$f"
}

do_stop() {
  [[ -d "$RUN_DIR" ]] || { log "nothing to stop ($RUN_DIR does not exist)"; return 0; }
  stop_one apiserver
  stop_one egress-guard
  stop_one etcd
}

admin_token() { cat "$RUN_DIR/admin.token"; }

readyz() {
  [[ -f "$RUN_DIR/admin.token" ]] || return 1
  local out
  out=$(curl -s --max-time 5 --cacert "$RUN_DIR/ca.crt" \
        -H "Authorization: Bearer $(admin_token)" "https://$HOST:$PORT/readyz" 2>/dev/null) || return 1
  [[ "$out" == "ok" ]]
}

do_status() {
  local rc=0 n
  for n in etcd egress-guard apiserver; do
    if pid_alive "$n"; then echo "$n: running (pid $(cat "$RUN_DIR/$n.pid"))"
    elif [[ "$n" == egress-guard && "$EGRESS_GUARD" != 1 ]]; then echo "$n: disabled"
    else echo "$n: not running"; rc=1; fi
  done
  if readyz; then echo "readyz: ok (https://$HOST:$PORT)"; else echo "readyz: not ready"; rc=1; fi
  echo "run dir: $RUN_DIR"
  return $rc
}

gen_pki() {
  local d=$RUN_DIR
  openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 3650 \
    -keyout "$d/ca.key" -out "$d/ca.crt" -subj "/CN=local-kube-apiserver-ca" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" >/dev/null 2>&1

  cat >"$d/apiserver.ext" <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local
EOF
  openssl req -new -nodes -newkey rsa:2048 -keyout "$d/apiserver.key" -out "$d/apiserver.csr" \
    -subj "/CN=kube-apiserver" >/dev/null 2>&1
  openssl x509 -req -sha256 -days 3650 -in "$d/apiserver.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
    -CAcreateserial -out "$d/apiserver.crt" -extfile "$d/apiserver.ext" >/dev/null 2>&1

  cat >"$d/admin-client.ext" <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
EOF
  openssl req -new -nodes -newkey rsa:2048 -keyout "$d/admin-client.key" -out "$d/admin-client.csr" \
    -subj "/O=system:masters/CN=local-admin" >/dev/null 2>&1
  openssl x509 -req -sha256 -days 3650 -in "$d/admin-client.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
    -CAcreateserial -out "$d/admin-client.crt" -extfile "$d/admin-client.ext" >/dev/null 2>&1

  openssl genrsa -out "$d/sa.key" 2048 >/dev/null 2>&1
  openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" >/dev/null 2>&1
  chmod 600 "$d"/*.key
}

write_tokens() {
  local admin dev
  admin=$(openssl rand -hex 24)
  dev=$(openssl rand -hex 24)
  printf '%s' "$admin" >"$RUN_DIR/admin.token"
  printf '%s' "$dev" >"$RUN_DIR/developer.token"
  # token,user,uid,"group1,group2"
  cat >"$RUN_DIR/tokens.csv" <<EOF
$admin,admin,uid-admin,"system:masters"
$dev,developer,uid-developer,"developers"
EOF
  chmod 600 "$RUN_DIR/tokens.csv" "$RUN_DIR/admin.token" "$RUN_DIR/developer.token"
}

write_kubeconfig() { # NAME USER TOKENFILE
  local ca
  ca=$(base64 -w0 <"$RUN_DIR/ca.crt")
  cat >"$RUN_DIR/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://$HOST:$PORT
    certificate-authority-data: $ca
users:
- name: $2
  user:
    token: $(cat "$3")
contexts:
- name: $2@local
  context:
    cluster: local
    user: $2
    namespace: default
current-context: $2@local
preferences: {}
EOF
  chmod 600 "$RUN_DIR/$1.kubeconfig"
}

write_egress_guard() {
  cat >"$RUN_DIR/egress-guard.py" <<'PYEOF'
# HTTP CONNECT proxy on a unix socket. kube-apiserver's egress selector sends all
# "cluster" traffic (service/pod/node proxy, service-referenced webhooks, aggregated
# APIs) and "controlplane" traffic (URL webhooks, authn/authz/audit webhooks) through it.
# It only ever dials loopback addresses:
#   * loopback IP literals and "localhost" are dialed as they are;
#   * IPv4 addresses inside MAP_CIDR (default 192.0.2.0/24, TEST-NET-1) are
#     rewritten to 127.0.0.<last octet>, same port, so a test can point
#     Endpoints / pod IPs at 192.0.2.N and serve them from 127.0.0.N;
#   * everything else is refused with 403, without any DNS lookup or dial.
import asyncio, ipaddress, sys, time

SOCK = sys.argv[1]
MAP_CIDR = ipaddress.ip_network(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] else None

def log(msg):
    print(time.strftime("%H:%M:%S"), msg, flush=True)

def loopback_target(host):
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return "127.0.0.1"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return str(ip)
    if MAP_CIDR is not None and ip.version == 4 and ip in MAP_CIDR:
        return "127.0.0.%d" % (int(ip) & 0xFF or 1)
    return None

async def pipe(r, w):
    try:
        while True:
            data = await r.read(65536)
            if not data:
                break
            w.write(data)
            await w.drain()
    except Exception:
        pass
    finally:
        try:
            w.close()
        except Exception:
            pass

async def reply(writer, status):
    writer.write(("HTTP/1.1 %s\r\nContent-Length: 0\r\n\r\n" % status).encode())
    await writer.drain()
    writer.close()

async def handle(reader, writer):
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        parts = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        if len(parts) < 2 or parts[0].upper() != "CONNECT":
            return await reply(writer, "405 Method Not Allowed")
        target = parts[1]
        host, _, port = target.rpartition(":")
        host = host.strip("[]")
        try:
            port = int(port)
        except ValueError:
            return await reply(writer, "400 Bad Request")
        dest = loopback_target(host)
        if dest is None:
            log(f"DENY {target} (not a loopback destination)")
            return await reply(writer, "403 Forbidden")
        try:
            ur, uw = await asyncio.wait_for(asyncio.open_connection(dest, port), 10)
        except Exception as e:
            log(f"FAIL {target} -> {dest}:{port}: {e}")
            return await reply(writer, "502 Bad Gateway")
        log(f"ALLOW {target} -> {dest}:{port}")
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await asyncio.gather(pipe(reader, uw), pipe(ur, writer))
    except Exception as e:
        log(f"error: {e!r}")
        try:
            writer.close()
        except Exception:
            pass

async def main():
    server = await asyncio.start_unix_server(handle, path=SOCK)
    log(f"listening on {SOCK}; loopback map: {MAP_CIDR}")
    async with server:
        await server.serve_forever()

asyncio.run(main())
PYEOF
  cat >"$RUN_DIR/egress-selector.yaml" <<EOF
apiVersion: apiserver.k8s.io/v1beta1
kind: EgressSelectorConfiguration
egressSelections:
- name: cluster
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: $RUN_DIR/egress.sock
- name: controlplane
  connection:
    proxyProtocol: HTTPConnect
    transport:
      uds:
        udsName: $RUN_DIR/egress.sock
EOF
}

wait_for() { # DESCRIPTION TIMEOUT_S COMMAND...
  local what=$1 t=$2 i; shift 2
  for ((i = 0; i < t * 5; i++)); do
    if "$@"; then return 0; fi
    sleep 0.2
  done
  log "timed out after ${t}s waiting for $what"
  return 1
}

etcd_healthy() { curl -s --max-time 2 "http://$HOST:$ETCD_PORT/health" 2>/dev/null | grep -q '"health":"true"'; }

fail_start() {
  log "start failed: $*"
  local f
  for f in etcd egress-guard apiserver; do
    [[ -f "$RUN_DIR/$f.log" ]] && { log "--- last lines of $f.log"; tail -n 20 "$RUN_DIR/$f.log" >&2; }
  done
  do_stop
  exit 1
}

do_start() {
  if pid_alive apiserver && readyz; then
    log "already running and ready at https://$HOST:$PORT (run dir $RUN_DIR)"
    echo "export KUBECONFIG=$RUN_DIR/admin.kubeconfig"
    return 0
  fi
  [[ -d "$RUN_DIR" ]] && do_stop

  [[ -x "$APISERVER_BIN" ]] || die "kube-apiserver not found at $APISERVER_BIN (set KUBE_BIN or KUBE_APISERVER_BIN)"
  [[ -n "$ETCD_BIN" && -x "$ETCD_BIN" ]] || die "etcd not found on PATH (apt-get install etcd-server) or set ETCD_BIN"
  command -v openssl >/dev/null || die "openssl not found"
  command -v curl >/dev/null || die "curl not found"
  if [[ "$EGRESS_GUARD" == 1 ]]; then
    [[ -n "$PYTHON" ]] || die "python3 not found (needed for the egress guard; or KUBE_EGRESS_GUARD=0)"
  fi
  local p
  for p in "$PORT" "$ETCD_PORT" "$ETCD_PEER_PORT"; do
    port_in_use "$p" && die "port $HOST:$p is already in use"
  done

  case "$RUN_DIR" in /|/tmp|"$HOME") die "refusing to use $RUN_DIR as run dir" ;; esac
  rm -rf "$RUN_DIR"
  mkdir -p "$RUN_DIR"
  chmod 700 "$RUN_DIR"

  gen_pki
  write_tokens
  write_kubeconfig admin admin "$RUN_DIR/admin.token"
  write_kubeconfig developer developer "$RUN_DIR/developer.token"

  # shellcheck disable=SC2086
  nohup "$ETCD_BIN" \
    --name local \
    --data-dir "$RUN_DIR/etcd" \
    --listen-client-urls "http://$HOST:$ETCD_PORT" \
    --advertise-client-urls "http://$HOST:$ETCD_PORT" \
    --listen-peer-urls "http://$HOST:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://$HOST:$ETCD_PEER_PORT" \
    --initial-cluster "local=http://$HOST:$ETCD_PEER_PORT" \
    --initial-cluster-state new \
    --logger zap --log-outputs stderr --log-level warn \
    ${ETCD_EXTRA_ARGS:-} \
    >"$RUN_DIR/etcd.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/etcd.pid"
  wait_for "etcd /health" 30 etcd_healthy || fail_start "etcd did not become healthy"

  local egress_args=()
  if [[ "$EGRESS_GUARD" == 1 ]]; then
    write_egress_guard
    nohup "$PYTHON" "$RUN_DIR/egress-guard.py" "$RUN_DIR/egress.sock" "$EGRESS_MAP" \
      >"$RUN_DIR/egress-guard.log" 2>&1 </dev/null &
    echo $! >"$RUN_DIR/egress-guard.pid"
    wait_for "egress guard socket" 15 test -S "$RUN_DIR/egress.sock" || fail_start "egress guard did not start"
    egress_args=(--egress-selector-config-file="$RUN_DIR/egress-selector.yaml")
  fi

  # shellcheck disable=SC2086
  nohup "$APISERVER_BIN" \
    --bind-address="$HOST" \
    --advertise-address="$HOST" \
    --secure-port="$PORT" \
    --etcd-servers="http://$HOST:$ETCD_PORT" \
    --cert-dir="$RUN_DIR" \
    --tls-cert-file="$RUN_DIR/apiserver.crt" \
    --tls-private-key-file="$RUN_DIR/apiserver.key" \
    --client-ca-file="$RUN_DIR/ca.crt" \
    --token-auth-file="$RUN_DIR/tokens.csv" \
    --authorization-mode=RBAC \
    --anonymous-auth=false \
    --service-account-issuer="https://kubernetes.default.svc.cluster.local" \
    --service-account-key-file="$RUN_DIR/sa.pub" \
    --service-account-signing-key-file="$RUN_DIR/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --endpoint-reconciler-type=none \
    --disable-admission-plugins=ServiceAccount \
    --enable-garbage-collector=false \
    --allow-privileged=true \
    --profiling=false \
    "${egress_args[@]}" \
    ${KUBE_APISERVER_EXTRA_ARGS:-} \
    >"$RUN_DIR/apiserver.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/apiserver.pid"

  local i ok=0 apid
  apid=$(cat "$RUN_DIR/apiserver.pid")
  for ((i = 0; i < READY_TIMEOUT * 2; i++)); do
    # plain liveness (not pid_alive): right after the fork the child may not have exec'd yet
    [[ "$(ps -o stat= -p "$apid" 2>/dev/null)" =~ ^[^Z] ]] || fail_start "kube-apiserver exited"
    if readyz; then ok=1; break; fi
    sleep 0.5
  done
  [[ $ok == 1 ]] || fail_start "kube-apiserver not ready after ${READY_TIMEOUT}s"

  log "ready: https://$HOST:$PORT  (run dir $RUN_DIR)"
  log "admin:     KUBECONFIG=$RUN_DIR/admin.kubeconfig"
  log "developer: KUBECONFIG=$RUN_DIR/developer.kubeconfig (group 'developers', no RBAC)"
  echo "export KUBECONFIG=$RUN_DIR/admin.kubeconfig"
}

case "${1:-}" in
  start) do_start ;;
  stop) do_stop ;;
  restart) do_stop; do_start ;;
  status) do_status ;;
  env) echo "export KUBECONFIG=$RUN_DIR/admin.kubeconfig" ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    if [[ -n "${1:-}" ]]; then exit 2; fi
    ;;
esac
