# syntax=docker/dockerfile:1
#
# tracehouse image: one CLI, one role per container (receiver | writer | evaluator | api | migrate | start).
#
#   docker build -t tracehouse .
#   docker run --rm tracehouse --help
#   docker run --rm -e TRACEHOUSE_BUS=kafka -e KAFKA_BROKERS=kafka:9092 -e TRACEHOUSE_BOOTSTRAP_ADMIN_KEY=… -p 4317:4317 -p 4318:4318 tracehouse receiver
#
# Base: Debian slim (glibc), not Alpine. Every runtime dependency is pure JavaScript (@grpc/grpc-js,
# kafkajs, @clickhouse/client, protobufjs, pino), so Alpine would run it too and be ~40 MB smaller;
# slim is chosen because (1) glibc's resolver is the one Node and kafkajs are tested against, and
# Kafka/ClickHouse clients resolve broker and service names constantly under Kubernetes' search
# domains (musl has had ndots/TCP-fallback differences there), and (2) a native addon added later
# (chdb itself ships glibc-only builds) keeps working without a base-image change.
# The Debian release is pinned (bookworm) so a rebuild does not silently move to a new one.
# NODE_VERSION 20 matches the project's engines (>=20); Node 20 left upstream maintenance in April
# 2026, so prefer `--build-arg NODE_VERSION=22` (or 24) once the test suite has run on it.
ARG NODE_VERSION=20
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------------------------------------------
# manifest: package.json without the optional chdb dependency.
#
# chdb (~550 MB with its native library) is only used by the embedded store, which a container never
# runs (the image defaults to TRACEHOUSE_STORE=clickhouse). Removing it from the manifest before
# `npm ci` is needed, not just `--omit=optional`: the committed package-lock.json records only the
# linux-x64 chdb library, and `npm ci` refuses a lock missing the other platforms' optional entries
# ("Missing: @chdb/lib-darwin-arm64@ from lock file") whatever --omit says. Without chdb in the
# manifest, npm ci installs exactly the locked versions of everything else and ignores chdb's entries.
# Lifecycle scripts are skipped (--ignore-scripts): the root `prepare` script would run tsc during
# install, and no runtime dependency needs an install script (protobufjs 7's postinstall only prints
# a version-scheme warning).
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS manifest
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
RUN npm pkg delete optionalDependencies.chdb

# ---------------------------------------------------------------------------------------------------
# deps: production node_modules only (no dev dependencies, no chdb).
FROM manifest AS deps
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --omit=optional --ignore-scripts \
 && test ! -e node_modules/chdb \
 && test -e node_modules/@clickhouse/client/package.json \
 && test -e node_modules/kafkajs/package.json

# ---------------------------------------------------------------------------------------------------
# build: dev dependencies + tsc -> dist/, and the web UI -> dist/ui.
# Optional dependencies stay in here: Vite's bundler (rolldown) ships its native binding as one; chdb is
# already out of the manifest.
FROM manifest AS build
RUN --mount=type=cache,target=/root/.npm \
    npm ci --ignore-scripts
COPY tsconfig.json ./
COPY proto ./proto
COPY src ./src
COPY ui ./ui
# The chdb import in src/exporters/clickhouse/client.ts is not a literal, so tsc compiles without the package.
RUN npm run build \
 && npm run build:ui \
 && test -f dist/cli/main.js \
 && test -f dist/ui/index.html

# ---------------------------------------------------------------------------------------------------
# runtime
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS runtime
LABEL org.opencontainers.image.title="tracehouse" \
      org.opencontainers.image.description="OTLP ingestion pipeline for GenAI traces: OpenTelemetry in, ClickHouse out" \
      org.opencontainers.image.licenses="Apache-2.0"
# The embedded store (chDB) is not in the image, so a plain `start` uses a ClickHouse server
# (CLICKHOUSE_URL, default http://localhost:8123). Override any setting with the environment.
# A container's listeners must be reachable from outside it, so they bind every interface; that turns
# API keys on (auth.mode auto): give the first admin key with TRACEHOUSE_BOOTSTRAP_ADMIN_KEY (or a
# secret file named by TRACEHOUSE_BOOTSTRAP_ADMIN_KEY_FILE), then create project keys with
# `tracehouse keys create` (deploy/README.md).
ENV NODE_ENV=production \
    TRACEHOUSE_STORE=clickhouse \
    TRACEHOUSE_GRPC_HOST=0.0.0.0 \
    TRACEHOUSE_HTTP_HOST=0.0.0.0 \
    TRACEHOUSE_API_HOST=0.0.0.0 \
    TRACEHOUSE_TELEMETRY_HOST=0.0.0.0
WORKDIR /app
# Root-owned and read-only for the runtime user: the process never writes into /app.
# package.json is required at run time: it makes dist/*.js ES modules ("type": "module").
COPY package.json ./
COPY proto ./proto
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The image's `node` user (uid/gid 1000), numeric so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# 4317 OTLP/gRPC, 4318 OTLP/HTTP (receiver), 8080 API (api, start), 8888 telemetry: /healthz /readyz
# /metrics for receiver, writer and evaluator.
EXPOSE 4317 4318 8080 8888
# For docker/compose only (Kubernetes uses its own probes). Roles without the API answer on the
# telemetry port, the API (and `start`) on the API port: try the first, then the second. /readyz
# means "my dependencies answer", which is what compose's depends_on: service_healthy wants.
# Plain node fetch: the slim image has no curl or wget.
HEALTHCHECK --interval=15s --timeout=6s --start-period=40s --retries=3 \
  CMD ["node", "-e", "const ports=[process.env.TRACEHOUSE_TELEMETRY_PORT||8888,process.env.TRACEHOUSE_API_PORT||8080];(async()=>{for(const p of ports){let r;try{r=await fetch('http://127.0.0.1:'+p+'/readyz',{signal:AbortSignal.timeout(2500)})}catch{continue}process.exit(r.ok?0:1)}process.exit(1)})()"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["start"]
