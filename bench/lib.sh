# Shell functions shared by bench/run and bench/run-scaleout (sourced, not executed).
# Callers set: root (repo root), work (temp dir), secret (bootstrap client secret), and keep
# server_pid/base/token/auth as globals; log_tag names the script in log lines.

stop_pid() { # stop one process we started, by its pid: TERM, bounded wait, then KILL
  local pid="$1"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}

log() { echo "${log_tag:-bench}: $*" >&2; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mbps() { awk -v b="$1" -v t="$2" 'BEGIN { if (t > 0) printf "%.0f", b / 1e6 / t; else print "n/a" }'; }
pct() { # pct A B -> "NN%" of A relative to B
  awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.0f%%", 100 * a / b; else print "n/a" }'
}
kv() { # kv "a=1 b=2" b -> 2
  printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1
}

start_server() { # start_server DATA_DIR LOG [ENV=VALUE...]; sets server_pid, base
  local dir="$1" logf="$2"; shift 2
  local port; port="$(free_port)"
  base="http://127.0.0.1:$port"
  env "$@" "$root/fhirbox" serve --port "$port" --data-dir "$dir" --base-url "$base/" >"$logf" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/healthz" 2>/dev/null)" = 200 ] && return 0
    kill -0 "$server_pid" 2>/dev/null || { cat "$logf" >&2; log "server exited"; exit 1; }
    sleep 0.1
  done
  log "server did not become healthy in 60 s"; exit 1
}

get_token() { # sets token ("" when the server has no /oauth2/token yet) and auth (curl args)
  local code
  code="$(curl -sS -o "$work/token.json" -w '%{http_code}' -u "bench:$secret" -d grant_type=client_credentials "$base/oauth2/token")"
  token=""; auth=()
  if [ "$code" = 200 ]; then
    token="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["access_token"])' "$work/token.json")"
    auth=(-H "Authorization: Bearer $token")
  elif [ "$code" != 404 ]; then
    log "token request answered $code: $(head -c 300 "$work/token.json")"; exit 1
  fi
}

c2_ticks() { # c2_ticks PID: CPU clock ticks used so far by the JVM's C2 compiler thread(s)
  local pid="$1" t total=0
  for t in /proc/"$pid"/task/*; do
    case "$(cat "$t/comm" 2>/dev/null)" in
      "C2 Compiler"*) total=$((total + $(awk '{print $14 + $15}' "$t/stat" 2>/dev/null || echo 0))) ;;
    esac
  done
  echo "$total"
}

# warm_until_quiet PID MIN_S MAX_S QUIET_TICKS LABEL ROUND...: runs the command ROUND... (one round
# of untimed traffic) until the server's C2 compiler used under QUIET_TICKS clock ticks (1/100 s)
# in a round, after at least MIN_S seconds, at most MAX_S. Sets warmed_s and warm_c2_s (C2
# CPU-seconds spent during the warm-up).
warm_until_quiet() {
  local pid="$1" min="$2" max="$3" quiet="$4" label="$5" start c0 c1 first
  shift 5
  start="$(date +%s)"; first="$(c2_ticks "$pid")"
  while :; do
    c0="$(c2_ticks "$pid")"
    "$@" >/dev/null
    c1="$(c2_ticks "$pid")"; warmed_s=$(($(date +%s) - start))
    if { [ "$warmed_s" -ge "$min" ] && [ $((c1 - c0)) -lt "$quiet" ]; } || [ "$warmed_s" -ge "$max" ]; then break; fi
  done
  warm_c2_s="$(awk -v t=$((c1 - first)) 'BEGIN { printf "%.1f", t / 100 }')"
  log "$label: ${warmed_s} s of untimed traffic, C2 compiled for ${warm_c2_s} CPU-s (last round $((c1 - c0)) ticks)"
}

# warm_small PID BINARY_ID MIN_S MAX_S: untimed small-resource traffic (8 clients, 5 s of creates
# then 3 s of reads per round) until the server's C2 compiler is done with those paths: a round in
# which it used under 0.6 CPU-seconds (warm_until_quiet). On 2 cores C2 needs 30-40 CPU-seconds
# for the create and read paths (HAPI's parser and encoder, H2, Jetty) and takes most of a core
# while it works, so rows measured before it finishes measure the compiler, not the server.
warm_small() {
  warm_until_quiet "$1" "$3" "$4" 60 "warm-up" small_round "$2"
}
small_round() { # small_round BINARY_ID: one round of warm_small
  bench load --base "$base" --mode create --threads 8 --warmup 0 --duration 5 --binary "$1" >/dev/null
  bench load --base "$base" --mode read --threads 8 --warmup 0 --duration 3 --binary "$1" >/dev/null
}

# warm_uploads PID MIN_S MAX_S: untimed uploads (100 KB bodies, 16 connections, 5 s a round) until
# the server's C2 compiler is done with the upload path: a round in which it used under 0.4
# CPU-seconds (warm_until_quiet). Before it, the many-uploads rows measured a server still
# compiling: 100 KB at 16 connections rose from 493 to 1,145 uploads/s over six 8 s rounds of
# one fresh server, while C2 went from 4.8 to 0.1 CPU-s a round (2026-12-04, 8f027b4).
warm_uploads() {
  warm_until_quiet "$1" "$2" "$3" 40 "upload warm-up" \
    bench upload --url "$base/fhir/R4/Binary" --method POST --bearer --size 102400 --threads 16 --warmup 0 --duration 5
}

# PostgreSQL named by $pg_url (a JDBC URL). pg_setup takes host, port, database and user from it;
# psql_do runs one statement there; new_schema TAG creates an empty schema, adds its name to the
# caller's schemas array (for its cleanup) and sets schema_url, a JDBC URL whose currentSchema it is.
pg_setup() {
  pg_host="$(sed -E 's#^jdbc:postgresql://([^:/?]+).*#\1#' <<<"$pg_url")"
  pg_port="$(sed -nE 's#^jdbc:postgresql://[^:/?]+:([0-9]+).*#\1#p' <<<"$pg_url")"; pg_port="${pg_port:-5432}"
  pg_dbname="$(sed -E 's#^jdbc:postgresql://[^/]+/([^?]+).*#\1#' <<<"$pg_url")"
  pg_user="$(sed -nE 's#.*[?&]user=([^&]+).*#\1#p' <<<"$pg_url")"; pg_user="${pg_user:-postgres}"
}
psql_do() { PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1 -h "$pg_host" -p "$pg_port" -U "$pg_user" -d "$pg_dbname" -c "$1" >/dev/null; }
new_schema() { # new_schema TAG -> sets schema_url: a JDBC URL whose currentSchema is new and empty
  local name; name="bench_${1}_$(date -u +%Y%m%d%H%M%S)_$$"
  psql_do "CREATE SCHEMA $name"
  schemas+=("$name")
  case "$pg_url" in *\?*) schema_url="$pg_url&currentSchema=$name" ;; *) schema_url="$pg_url?currentSchema=$name" ;; esac
}

ratio() { # ratio A B -> "0.53x" (A / B)
  awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2fx", a / b; else print "n/a" }'
}

# many_uploads REF_LABEL REF_URL REF_ARGS...: for each body size of $upload_sizes (NAME:BYTES) and
# 1 and 16 connections, `bench upload` against the reference (PUT to REF_URL, REF_ARGS added) and
# then fhirbox (POST $base/fhir/R4/Binary with the bearer token), interleaved so both see the
# same minute of a shared machine. Each run: 2 s warm-up, $upload_duration s measured. Calls
# ref_cleanup (defined by the caller) after each reference run. Appends Markdown rows to
# $upload_table. When $floor_dir is set (a folder on the disk that holds fhirbox's data), each row
# also runs `disk floor` (bench/DiskFloor.java, a `disk` function of the caller's) there: the same bodies and threads written as files and fdatasynced, with
# no server, which is the least any server that acknowledges only durable uploads must do.
many_uploads() {
  local label="$1" url="$2"; shift 2
  local s n size c r f
  upload_table=""
  declare -gA upload_rates=() # "100K/16" -> fhirbox's line (bench/run compares the audit-off server with it)
  for s in $upload_sizes; do
    n="${s%%:*}"; size="${s#*:}"
    for c in 1 16; do
      log "many uploads: $n bodies, $c connection(s): $label, then fhirbox"
      sync
      r="$(bench upload --url "$url" --method PUT --size "$size" --threads "$c" --warmup 2 --duration "$upload_duration" "$@")"
      ref_cleanup
      sync
      f="$(bench upload --url "$base/fhir/R4/Binary" --method POST --bearer --size "$size" --threads "$c" --warmup 2 --duration "$upload_duration")"
      upload_rates["$n/$c"]="$f"
      local floor_cells=""
      if [ -n "${floor_dir:-}" ]; then
        sync
        local d; d="$(disk floor --dir "$floor_dir" --size "$size" --threads "$c" --warmup 2 --duration "$upload_duration")"
        floor_cells=" $(kv "$d" rps) | $(ratio "$(kv "$f" rps)" "$(kv "$d" rps)") |"
      fi
      upload_table+="| $n | $c | $(kv "$r" rps) | $(kv "$f" rps) | $(ratio "$(kv "$f" rps)" "$(kv "$r" rps)") |$floor_cells $(kv "$r" mbps) | $(kv "$f" mbps) | $(kv "$r" p50_ms) / $(kv "$r" p99_ms) | $(kv "$f" p50_ms) / $(kv "$f" p99_ms) | $(kv "$r" errors) / $(kv "$f" errors) |"$'\n'
    done
  done
}
many_uploads_header() { # many_uploads_header REF_LABEL (with the floor's columns when $floor_dir is set)
  local names="" rules=""
  [ -n "${floor_dir:-}" ] && names=" durable floor files/s | fhirbox / floor |" && rules="---:|---:|"
  echo "| body | connections | $1 uploads/s | fhirbox uploads/s | fhirbox / $1 |$names $1 MB/s | fhirbox MB/s | $1 p50 / p99 ms | fhirbox p50 / p99 ms | errors ($1 / fhirbox) |"
  echo "|---|---:|---:|---:|---:|$rules---:|---:|---:|---:|---:|"
}

# s3proxy_classpath: writes the test classpath of fhirbox-server (s3proxy, the AWS SDK, Jackson) to
# $work/s3proxy.cp, offline first.
s3proxy_classpath() {
  (cd "$root" && { ./mvnw -q -o -B -pl fhirbox-server dependency:build-classpath -Dmdep.includeScope=test \
      -Dmdep.outputFile="$work/s3proxy.cp" >"$work/mvn.log" 2>&1 ||
    ./mvnw -q -B -pl fhirbox-server dependency:build-classpath -Dmdep.includeScope=test \
      -Dmdep.outputFile="$work/s3proxy.cp" >"$work/mvn.log" 2>&1; }) || { cat "$work/mvn.log" >&2; exit 1; }
  grep -q 's3proxy' "$work/s3proxy.cp" || { log "s3proxy is not on the test classpath of fhirbox-server"; exit 1; }
}

# start_s3proxy BUCKET: s3proxy 4.1.0 on a free loopback port, filesystem-nio2 under $work/s3data,
# signatures checked (aws-v2-or-v4), a random identity; creates BUCKET. Sets s3, s3_pid, s3_id,
# s3_secret and s3curl (curl arguments for a SigV4 request with an unsigned payload).
start_s3proxy() {
  local bucket="$1"
  s3_id="bench$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  s3_secret="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
  s3="http://127.0.0.1:$(free_port)"
  mkdir -p "$work/s3data"
  cat >"$work/s3proxy.properties" <<PROPS
s3proxy.endpoint=$s3
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$s3_id
s3proxy.credential=$s3_secret
jclouds.provider=filesystem-nio2
jclouds.filesystem.basedir=$work/s3data
PROPS
  cat >"$work/s3proxy-logback.xml" <<'XML'
<configuration>
  <appender name="E" class="ch.qos.logback.core.ConsoleAppender"><encoder><pattern>%d %level %logger{20} %msg%n</pattern></encoder></appender>
  <root level="WARN"><appender-ref ref="E"/></root>
</configuration>
XML
  log "starting s3proxy on $s3 (filesystem-nio2 under the work dir, -Xmx2g)"
  java -Xmx2g -Dlogback.configurationFile="$work/s3proxy-logback.xml" -cp "$(cat "$work/s3proxy.cp")" \
    org.gaul.s3proxy.Main --properties "$work/s3proxy.properties" >"$work/s3proxy.log" 2>&1 &
  s3_pid=$!
  s3curl=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$s3_id:$s3_secret" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "${s3curl[@]}" -X PUT "$s3/$bucket" 2>/dev/null)" = 200 ] && break
    kill -0 "$s3_pid" 2>/dev/null || { cat "$work/s3proxy.log" >&2; log "s3proxy exited"; exit 1; }
    sleep 0.1
  done
  [ "$(curl -s -o /dev/null -w '%{http_code}' "${s3curl[@]}" "$s3/$bucket")" = 200 ] || { log "s3proxy did not come up"; exit 1; }
}

# timed_load PID ARGS...: `bench load ARGS` (which must include --warmup W --duration D) with the
# server's CPU per request appended as cpu_us=N: the process's user + system CPU over warm-up and
# measured window together, divided by the requests of the window scaled to both (the rate
# assumed the same in the warm-up), so the collector, the compiler and H2's threads count too; and
# steal_pct=N, the share of the machine's CPU time its hypervisor gave to others meanwhile.
timed_load() {
  local pid="$1"; shift
  local c0 c1 out w d
  w="$(printf '%s\n' "$@" | awk 'p {print; exit} /^--warmup$/ {p=1}')"
  d="$(printf '%s\n' "$@" | awk 'p {print; exit} /^--duration$/ {p=1}')"
  local s0 s1
  s0="$(steal_ticks)"
  c0="$(cpu_s "$pid")"; out="$(bench load "$@")"; c1="$(cpu_s "$pid")"
  s1="$(steal_ticks)"
  echo "$out steal_pct=$(awk -v a="$s0" -v b="$s1" 'BEGIN { split(a, x, " "); split(b, y, " "); t = y[2] - x[2]; if (t > 0) printf "%.1f", 100 * (y[1] - x[1]) / t; else print "n/a" }') cpu_us=$(awk -v a="$c0" -v b="$c1" -v n="$(kv "$out" ok)" -v w="$w" -v d="$d" \
    'BEGIN { if (n > 0 && d > 0) printf "%.0f", (b - a) * 1e6 / (n * (w + d) / d); else print "n/a" }')"
}

steal_ticks() { # the machine's stolen and total CPU ticks so far: "STEAL TOTAL"
  awk '/^cpu / {print $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat
}

cpu_s() { # cpu_s PID -> user+system CPU seconds the process has used so far
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}
