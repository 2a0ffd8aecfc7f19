-- tracehouse on a replicated ClickHouse cluster: the DDL, for illustration.
--
-- NOT the source of truth and NOT meant to be run by hand: `tracehouse migrate` (and every role at
-- start-up) generates and runs these statements from src/exporters/clickhouse/schema.ts and src/exporters/clickhouse/migrate.ts when
-- TRACEHOUSE_CLICKHOUSE_CLUSTER (store.cluster) is set. This file was produced from those sources with
-- the cluster name `tracehouse` and retention_days 30; later migrations will not be reflected here.
-- See deploy/clickhouse/README.md for the server configuration these statements rely on.
--
-- How a single-node statement becomes a cluster one (forCluster() in src/exporters/clickhouse/migrate.ts):
--   CREATE TABLE IF NOT EXISTS t (...)      ->  CREATE TABLE IF NOT EXISTS t ON CLUSTER tracehouse (...)
--   ENGINE = MergeTree                      ->  ENGINE = ReplicatedMergeTree
--   ENGINE = ReplacingMergeTree[(version)]  ->  ENGINE = ReplicatedReplacingMergeTree[(version)]
-- The Replicated engines get no path arguments, so each server uses its own
--   default_replica_path = /clickhouse/tables/{uuid}/{shard}   and   default_replica_name = {replica}
-- ({uuid} is the same on every replica because the table is created ON CLUSTER; {shard} and {replica}
-- come from each server's <macros>). Equivalent explicit form, for comparison:
--   ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{uuid}/{shard}', '{replica}', version)
-- non_replicated_deduplication_window is kept (accepted, unused by Replicated tables, which deduplicate
-- inserts with the same insert_deduplication_token through Keeper: replicated_deduplication_window).


-- 0. Prerequisites an administrator runs once (tracehouse does not).
--    The database must exist on every replica before any ON CLUSTER CREATE TABLE: tracehouse's own
--    `CREATE DATABASE IF NOT EXISTS` runs only on the server CLICKHOUSE_URL reaches.
CREATE DATABASE IF NOT EXISTS tracehouse ON CLUSTER tracehouse;

--    The application user, on every replica, with the CLUSTER privilege that ON CLUSTER queries need.
--    (Skip CREATE USER if users come from users.xml or a replicated user directory.)
CREATE USER IF NOT EXISTS tracehouse ON CLUSTER tracehouse IDENTIFIED WITH sha256_password BY 'change-me';
GRANT ON CLUSTER tracehouse SELECT, INSERT, ALTER TABLE, CREATE TABLE, CREATE DATABASE ON tracehouse.* TO tracehouse;
GRANT ON CLUSTER tracehouse CLUSTER ON *.* TO tracehouse;


-- 1. What the migrations run, in order (session database: tracehouse).
-- The migration ledger, itself replicated so every replica agrees on the schema version.
CREATE TABLE IF NOT EXISTS schema_migrations ON CLUSTER tracehouse (version UInt32, name String, applied_at DateTime DEFAULT now())
            ENGINE = ReplicatedReplacingMergeTree ORDER BY version;


-- migration 1: spans, traces, events, assessments

CREATE TABLE IF NOT EXISTS spans ON CLUSTER tracehouse (
        project LowCardinality(String),
        trace_id String,
        span_id String,
        parent_span_id String,
        name String,
        kind LowCardinality(String),
        span_type LowCardinality(String),
        start_time_ns UInt64,
        end_time_ns UInt64,
        start_time DateTime64(9) MATERIALIZED fromUnixTimestamp64Nano(toInt64(start_time_ns)),
        status_code LowCardinality(String),
        status_message String CODEC(ZSTD(3)),
        service_name LowCardinality(String),
        scope_name LowCardinality(String),
        scope_version LowCardinality(String),
        model LowCardinality(String),
        provider LowCardinality(String),
        input_tokens Nullable(UInt64),
        output_tokens Nullable(UInt64),
        total_tokens Nullable(UInt64),
        cache_read_tokens Nullable(UInt64),
        reasoning_tokens Nullable(UInt64),
        cost Nullable(Float64),
        session_id String,
        user_id String,
        inputs String CODEC(ZSTD(3)),
        outputs String CODEC(ZSTD(3)),
        documents String CODEC(ZSTD(3)),
        tool_name LowCardinality(String),
        tool_arguments String CODEC(ZSTD(3)),
        tool_result String CODEC(ZSTD(3)),
        tags Map(String, String),
        metadata Map(String, String),
        attributes Map(String, String) CODEC(ZSTD(3)),
        resource_attributes Map(String, String) CODEC(ZSTD(3)),
        events String CODEC(ZSTD(3)),
        links String CODEC(ZSTD(3)),
        INDEX idx_start start_time TYPE minmax GRANULARITY 1,
        INDEX idx_name name TYPE bloom_filter(0.01) GRANULARITY 4,
        INDEX idx_span_type span_type TYPE set(32) GRANULARITY 4,
        INDEX idx_session session_id TYPE bloom_filter(0.01) GRANULARITY 4,
        INDEX idx_attr_keys mapKeys(attributes) TYPE bloom_filter(0.01) GRANULARITY 4,
        INDEX idx_tag_keys mapKeys(tags) TYPE bloom_filter(0.01) GRANULARITY 4,
        INDEX idx_meta_keys mapKeys(metadata) TYPE bloom_filter(0.01) GRANULARITY 4
      ) ENGINE = ReplicatedReplacingMergeTree
      PARTITION BY toDate(start_time)
      ORDER BY (project, trace_id, span_id)
      SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS traces ON CLUSTER tracehouse (
        project LowCardinality(String),
        trace_id String,
        version UInt8,
        request_time_ns UInt64,
        request_time DateTime64(9) MATERIALIZED fromUnixTimestamp64Nano(toInt64(request_time_ns)),
        execution_duration_ns UInt64,
        state LowCardinality(String),
        name String,
        root_span_id String,
        service_name LowCardinality(String),
        request_preview String CODEC(ZSTD(3)),
        response_preview String CODEC(ZSTD(3)),
        INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
        INDEX idx_name name TYPE bloom_filter(0.01) GRANULARITY 4,
        INDEX idx_preview_tokens concat(request_preview, ' ', response_preview) TYPE tokenbf_v1(8192, 3, 0) GRANULARITY 4
      ) ENGINE = ReplicatedReplacingMergeTree(version)
      PARTITION BY toDate(request_time)
      ORDER BY (project, request_time, trace_id)
      SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS events ON CLUSTER tracehouse (
        project LowCardinality(String),
        trace_id String,
        span_id String,
        time_ns UInt64,
        time DateTime64(9) MATERIALIZED fromUnixTimestamp64Nano(toInt64(time_ns)),
        event_id String,
        event_name LowCardinality(String),
        severity_number UInt8,
        severity_text LowCardinality(String),
        service_name LowCardinality(String),
        body String CODEC(ZSTD(3)),
        attributes Map(String, String) CODEC(ZSTD(3)),
        resource_attributes Map(String, String) CODEC(ZSTD(3))
      ) ENGINE = ReplicatedReplacingMergeTree
      PARTITION BY toDate(time)
      ORDER BY (project, trace_id, span_id, time_ns, event_id)
      SETTINGS non_replicated_deduplication_window = 1000;

CREATE TABLE IF NOT EXISTS assessments ON CLUSTER tracehouse (
        project LowCardinality(String),
        trace_id String,
        assessment_id String,
        version UInt64,
        span_id String,
        name LowCardinality(String),
        kind LowCardinality(String),
        value String CODEC(ZSTD(3)),
        value_text String CODEC(ZSTD(3)),
        rationale String CODEC(ZSTD(3)),
        source_type LowCardinality(String),
        source_id String,
        error String,
        metadata Map(String, String),
        created_time_ns UInt64,
        created_time DateTime64(9) MATERIALIZED fromUnixTimestamp64Nano(toInt64(created_time_ns)),
        last_updated_time_ns UInt64,
        valid UInt8,
        deleted UInt8,
        overrides String,
        INDEX idx_name name TYPE set(256) GRANULARITY 4
      ) ENGINE = ReplicatedMergeTree
      PARTITION BY toYYYYMM(created_time)
      ORDER BY (project, trace_id, assessment_id)
      SETTINGS non_replicated_deduplication_window = 1000;

-- 2. Retention (store.retention_days = 30), applied only when the current TTL differs, with
--    materialize_ttl_after_modify = 0 so existing parts are not rewritten.
ALTER TABLE spans ON CLUSTER tracehouse MODIFY TTL toDateTime(start_time) + toIntervalDay(30);

ALTER TABLE traces ON CLUSTER tracehouse MODIFY TTL toDateTime(request_time) + toIntervalDay(30);

ALTER TABLE events ON CLUSTER tracehouse MODIFY TTL toDateTime(time) + toIntervalDay(30);
