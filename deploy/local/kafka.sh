#!/usr/bin/env bash
# Single-node KRaft Kafka broker for local development and tests.
#
# Why this exists: there is no docker daemon on dev/CI machines and the network
# only reaches package registries, so the broker is assembled from the Kafka
# jars published on Maven Central and started with plain `java`. Only java (17+)
# and mvn are required.
#
# Usage:
#   deploy/local/kafka.sh start  [--port 19092] [--dir DIR] [--version V]
#   deploy/local/kafka.sh stop   [--dir DIR]
#   deploy/local/kafka.sh status [--dir DIR]      # exit 0 up, 1 not answering, 3 stopped
#   deploy/local/kafka.sh fetch  [--version V]    # only download/cache the jars
#
# DIR (default ${TMPDIR:-/tmp}/tracehouse-kafka) holds server.properties, the
# data (kept across stop/start; delete DIR for a clean broker), kafka.pid and
# logs/server.log. Several brokers can run at once with different --dir/--port.
#
# `start` prints exactly one line on stdout, `KAFKA_BROKERS=127.0.0.1:<port>`,
# so callers can `line=$(deploy/local/kafka.sh start) && export "$line"` (not
# `eval "$(...)"`, which hides a failed start from `set -e`); all progress and
# diagnostics go to stderr.
#
# Environment:
#   KAFKA_VERSION          broker version (default 4.4.0; --version wins)
#   TRACEHOUSE_CACHE_DIR   jar cache root (default ${XDG_CACHE_HOME:-~/.cache}/tracehouse)
#   KAFKA_START_TIMEOUT    seconds to wait for the broker to answer (default 90)
#   KAFKA_HEAP_OPTS        JVM heap flags (default -Xms256m -Xmx512m)
#   MAVEN_REPO_LOCAL       passed to mvn as -Dmaven.repo.local when set
set -euo pipefail

# kafkajs 2.2.4 was checked against this version by deploy/local/kafkajs-compat.mjs.
DEFAULT_KAFKA_VERSION="4.4.0"
# Scala 2.13 is the only Scala build published for Kafka 4.x (and the default for 3.x).
SCALA_BINARY="2.13"
# Pinned so the download does not depend on whatever plugin version Maven's
# prefix resolution picks on a given machine.
DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"

log() { printf '[kafka.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------- arguments
cmd="${1:-}"
[[ -n "$cmd" ]] || usage
shift

port=19092
dir="${TMPDIR:-/tmp}/tracehouse-kafka"
version="${KAFKA_VERSION:-$DEFAULT_KAFKA_VERSION}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) port="${2:?--port needs a value}"; shift 2 ;;
    --dir) dir="${2:?--dir needs a value}"; shift 2 ;;
    --version) version="${2:?--version needs a value}"; shift 2 ;;
    -h|--help) usage ;;
    *) die "unknown argument: $1" ;;
  esac
done
[[ "$port" =~ ^[0-9]+$ ]] || die "--port must be a number, got '$port'"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "--version must look like 4.1.1, got '$version'"

# Absolute dir: it is written into the configs and matched in the broker's cmdline.
if [[ "$cmd" == start ]]; then mkdir -p "$dir/logs"; fi
if [[ -d "$dir" ]]; then dir=$(cd "$dir" && pwd); fi

cache_root="${TRACEHOUSE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tracehouse}"
libs="$cache_root/kafka-$version/libs"
start_timeout="${KAFKA_START_TIMEOUT:-90}"
pid_file="$dir/kafka.pid"
port_file="$dir/kafka.port"
out_file="$dir/logs/kafka.out"   # JVM stdout/stderr (crashes before log4j is up)
log_file="$dir/logs/server.log"  # broker log via log4j

mvn_args=(-B -q)
if [[ -n "${MAVEN_REPO_LOCAL:-}" ]]; then mvn_args+=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL"); fi

# ---------------------------------------------------------------- helpers

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# True when a Kafka broker on 127.0.0.1:$1 answers an ApiVersions request.
# A bare TCP connect is not enough: the listening socket is bound early while
# the broker only starts reading requests once it has joined the KRaft quorum,
# caught up on metadata and been unfenced, i.e. once it can serve clients.
# Request: size=18, api_key=18 (ApiVersions), api_version=0,
# correlation_id=0x74680001, client_id="th-probe". We accept any answer that
# echoes our correlation id (even an UNSUPPORTED_VERSION error is an answer).
kafka_answers() {
  local reply
  reply=$(timeout 3 bash -c "
      exec 3<>/dev/tcp/127.0.0.1/$1 || exit 1
      printf '\x00\x00\x00\x12\x00\x12\x00\x00\x74\x68\x00\x01\x00\x08th-probe' >&3
      head -c 8 <&3" 2>/dev/null | od -An -tx1 | tr -d ' \n') || return 1
  # 4 bytes length, then the correlation id we sent.
  [[ "${reply:8:8}" == "74680001" ]]
}

# Pid from the pid file if that process is alive *and* is our broker (guards
# against pid reuse after a reboot or a crash).
running_pid() {
  [[ -f "$pid_file" ]] || return 1
  local pid
  pid=$(<"$pid_file")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "kafka.Kafka $dir/server.properties" || return 1
  echo "$pid"
}

show_log_tail() {
  local f
  for f in "$out_file" "$log_file"; do
    [[ -s "$f" ]] || continue
    log "---- last lines of $f ----"
    tail -n 40 "$f" >&2
  done
}

# Download kafka_2.13:<version> and all its runtime dependencies into the cache.
# Populated in a temp dir and renamed at the end so an interrupted download
# never leaves a half-filled libs dir that later runs would trust.
fetch_libs() {
  if [[ -f "$libs/.complete" ]]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found (needed once to download Kafka $version)"
  local work="$cache_root/kafka-$version/download.$$"
  rm -rf "$work"
  mkdir -p "$work/libs"
  log "downloading Kafka $version jars from Maven Central into $libs (first run only)"

  # Throwaway pom: its only purpose is to let Maven resolve the broker's
  # transitive runtime dependencies exactly as Kafka's own pom declares them.
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.tracehouse</groupId>
  <artifactId>kafka-broker-libs</artifactId>
  <version>$version</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_$SCALA_BINARY</artifactId>
      <version>$version</version>
    </dependency>
  </dependencies>
</project>
EOF
  if ! (cd "$work" && mvn "${mvn_args[@]}" "$DEP_PLUGIN:copy-dependencies" \
          -DincludeScope=runtime -DoutputDirectory="$work/libs" >"$work/mvn.log" 2>&1); then
    tail -n 30 "$work/mvn.log" >&2
    die "mvn could not fetch org.apache.kafka:kafka_$SCALA_BINARY:$version (log: $work/mvn.log)"
  fi

  # The broker's pom ships only slf4j-api; without a binding every broker log
  # line is dropped. Add the binding that matches the broker's log framework.
  local binding=""
  local log4j_core=("$work"/libs/log4j-core-*.jar)
  if [[ -f "${log4j_core[0]}" ]]; then
    # Kafka 4.x: log4j2 core is already a dependency; slf4j-api is 1.7.x, so
    # the slf4j-1 bridge (log4j-slf4j-impl) of the same log4j version.
    local v="${log4j_core[0]##*/log4j-core-}"; v="${v%.jar}"
    binding="org.apache.logging.log4j:log4j-slf4j-impl:$v"
  else
    # Kafka 3.x logs through log4j 1 (reload4j in the official tarball).
    binding="org.slf4j:slf4j-reload4j:1.7.36"
  fi
  if ! (cd "$work" && mvn "${mvn_args[@]}" "$DEP_PLUGIN:copy" -Dartifact="$binding" \
          -DoutputDirectory="$work/libs" >>"$work/mvn.log" 2>&1); then
    tail -n 30 "$work/mvn.log" >&2
    die "mvn could not fetch logging binding $binding"
  fi
  # dependency:copy does not pull transitive deps; slf4j-reload4j needs reload4j.
  local reload4j=("$work"/libs/reload4j-*.jar)
  if [[ "$binding" == org.slf4j:slf4j-reload4j:* && ! -f "${reload4j[0]}" ]]; then
    (cd "$work" && mvn "${mvn_args[@]}" "$DEP_PLUGIN:copy" -Dartifact=ch.qos.reload4j:reload4j:1.2.25 \
        -DoutputDirectory="$work/libs" >>"$work/mvn.log" 2>&1) || die "mvn could not fetch reload4j"
  fi

  [[ -f "$work/libs/kafka_$SCALA_BINARY-$version.jar" ]] || die "kafka_$SCALA_BINARY-$version.jar missing after download"
  touch "$work/libs/.complete"
  if [[ -f "$libs/.complete" ]]; then
    # A concurrent run finished first; keep its copy.
    rm -rf "$work"
    return 0
  fi
  rm -rf "$libs"
  mv "$work/libs" "$libs"
  mv "$work/pom.xml" "$work/mvn.log" "$cache_root/kafka-$version/" 2>/dev/null || true
  rm -rf "$work"
  local jars=("$libs"/*.jar)
  log "cached ${#jars[@]} jars ($(du -sh "$libs" | cut -f1))"
}

# First port above $1 that nothing listens on (for the CONTROLLER listener,
# which clients never see).
free_port_after() {
  local p=$(($1 + 1))
  while port_open "$p"; do
    p=$((p + 1))
    (( p < $1 + 200 )) || die "no free port found above $1 for the controller listener"
  done
  echo "$p"
}

write_configs() {
  local controller_port="$1"
  cat >"$dir/server.properties" <<EOF
# Generated by deploy/local/kafka.sh: single node acting as broker and KRaft controller.
process.roles=broker,controller
node.id=1
# Static one-voter quorum: no bootstrap checkpoint to keep in sync, so the
# controller port may change between restarts of the same data dir.
controller.quorum.voters=1@127.0.0.1:$controller_port
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data

# One broker: every internal topic must be satisfiable with one replica.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Tests create their topics explicitly; a typo must fail rather than create.
auto.create.topics.enable=false
# Consumers in tests should get partitions immediately, not after 3 s.
group.initial.rebalance.delay.ms=0
# Keep the dev broker light on disk.
log.segment.bytes=67108864
log.retention.hours=24
EOF

  # log4j2 (Kafka 4.x) config: everything to one rolling file in DIR/logs.
  cat >"$dir/log4j2.properties" <<EOF
status = warn
# Kafka stops log4j itself; log4j's own hook would race it at JVM exit.
shutdownHook = disable
appender.file.type = RollingFile
appender.file.name = file
appender.file.fileName = $log_file
appender.file.filePattern = $dir/logs/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 2
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
EOF

  # log4j 1 / reload4j (Kafka 3.x) equivalent.
  cat >"$dir/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.RollingFileAppender
log4j.appender.file.File=$log_file
log4j.appender.file.MaxFileSize=50MB
log4j.appender.file.MaxBackupIndex=2
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

# ---------------------------------------------------------------- commands

cmd_start() {
  local pid
  if pid=$(running_pid); then
    local running_port
    running_port=$(<"$port_file")
    if [[ "$running_port" != "$port" ]]; then
      die "a broker (pid $pid) already runs from $dir on port $running_port; stop it or use another --dir"
    fi
    kafka_answers "$port" || die "broker pid $pid from $dir is running but does not answer on $port"
    log "already running (pid $pid)"
    echo "KAFKA_BROKERS=127.0.0.1:$port"
    return 0
  fi

  command -v java >/dev/null || die "java not found (Kafka needs Java 17+)"
  if port_open "$port"; then die "port $port is already in use by another process"; fi

  fetch_libs

  # Reuse the controller port of an earlier run of this dir when still free.
  local controller_port=""
  if [[ -f "$dir/controller.port" ]]; then
    controller_port=$(<"$dir/controller.port")
    if port_open "$controller_port" || [[ "$controller_port" == "$port" ]]; then controller_port=""; fi
  fi
  [[ -n "$controller_port" ]] || controller_port=$(free_port_after "$port")
  echo "$controller_port" >"$dir/controller.port"
  write_configs "$controller_port"

  local heap="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
  # shellcheck disable=SC2206  # heap flags are meant to be word-split
  local jvm=(java $heap
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$dir/log4j2.properties"
    -Dlog4j.configuration="file:$dir/log4j.properties"
    -Dkafka.logs.dir="$dir/logs"
    -cp "$libs/*")

  # Format storage once per data dir; a restart keeps topics and offsets.
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    # A KRaft cluster id is 16 random bytes in URL-safe base64 without padding.
    local cluster_id
    cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    log "formatting $dir/data (cluster id $cluster_id)"
    if ! "${jvm[@]}" kafka.tools.StorageTool format --config "$dir/server.properties" \
          --cluster-id "$cluster_id" --ignore-formatted >"$dir/logs/format.out" 2>&1; then
      cat "$dir/logs/format.out" >&2
      die "storage format failed"
    fi
  fi

  : >"$out_file"
  log "starting Kafka $version on 127.0.0.1:$port (controller $controller_port), dir $dir"
  # setsid: the broker must outlive this script and not receive the caller's
  # Ctrl-C / job-control signals; `stop` is the way to end it.
  setsid "${jvm[@]}" kafka.Kafka "$dir/server.properties" >>"$out_file" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$pid_file"
  echo "$port" >"$port_file"

  local start=$SECONDS
  until kafka_answers "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      # The exit status says whether the JVM failed (1) or was killed (128 + signal), which its logs
      # cannot say when it was killed.
      local status=0
      wait "$pid" 2>/dev/null || status=$?
      show_log_tail
      rm -f "$pid_file"
      die "broker exited during startup (exit status $status)"
    fi
    if (( SECONDS - start >= start_timeout )); then
      show_log_tail
      terminate "$pid"
      rm -f "$pid_file"
      die "broker did not answer on 127.0.0.1:$port within ${start_timeout}s"
    fi
    sleep 0.5
  done
  log "ready after $((SECONDS - start))s (pid $pid, log $log_file)"
  echo "KAFKA_BROKERS=127.0.0.1:$port"
}

# SIGTERM, then wait: a single-node controlled shutdown takes a few seconds.
# Escalate to SIGKILL only if the JVM is stuck, so that callers always get
# the ports back when this returns.
terminate() {
  local pid="$1" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  log "pid $pid still alive after 30s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
}

cmd_stop() {
  local pid
  if ! pid=$(running_pid); then
    log "not running (dir $dir)"
    rm -f "$pid_file"
    return 0
  fi
  log "stopping pid $pid"
  terminate "$pid"
  rm -f "$pid_file"
  log "stopped"
}

cmd_status() {
  local pid p
  if ! pid=$(running_pid); then
    echo "stopped (dir $dir)"
    return 3
  fi
  p=$(<"$port_file")
  if kafka_answers "$p"; then
    echo "running pid=$pid KAFKA_BROKERS=127.0.0.1:$p dir=$dir"
    return 0
  fi
  echo "running pid=$pid but not answering on 127.0.0.1:$p (dir $dir)"
  return 1
}

case "$cmd" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  fetch) fetch_libs; log "jars in $libs" ;;
  -h|--help|help) usage ;;
  *) die "unknown command '$cmd' (start|stop|status|fetch)" ;;
esac
