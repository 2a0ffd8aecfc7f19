/**
 * The ClickHouse schema, as ordered, versioned migrations. A migration never changes once released:
 * add a new one instead. Each statement is idempotent (IF NOT EXISTS) so a crash mid-way is repaired by
 * running the list again.
 *
 * Design (time-range search at scale):
 * - `traces` holds one summary row per trace from its root span (plus IN_PROGRESS placeholders for traces
 *   whose root has not arrived), sorted by (project, request_time) so a time-range search reads a
 *   contiguous range; `version` lets the root's row win over placeholders at query time.
 * - `spans` is sorted by (project, trace_id, span_id): a trace lookup is a primary-key range and a resent
 *   span collapses onto its first copy (ReplacingMergeTree); queries still dedup with LIMIT 1 BY because
 *   merges are eventual.
 * - Both are partitioned by day, so TTL drops whole parts and time filters prune partitions.
 * - Payload columns (inputs, outputs, attributes, events) are ZSTD-compressed; they dominate the bytes.
 * - `assessments` keeps every version of every assessment (plain MergeTree: an edit, an override or a
 *   delete is a new row with a higher `version`), so the history of who said what when survives merges;
 *   queries take the highest version per assessment_id.
 * - non_replicated_deduplication_window makes inserts carrying the same insert_deduplication_token
 *   idempotent on a single server and in chDB (replicated tables dedup by default).
 */

import type { RebuildSpec } from './rebuild.js';

export interface Migration {
  version: number;
  name: string;
  statements: string[];
  /** Tables rebuilt after the statements (settings fixed at creation), each idempotent like a statement. */
  rebuild?: RebuildSpec[];
}

const DEDUP = 'non_replicated_deduplication_window = 1000';

/**
 * Granules sized for point reads: a trace by id reads one granule of each table, and at the default
 * 10 MiB a spans granule holds ~3,400 rows of wide payload columns to decompress for a 3-span trace
 * (~17 ms of the ~38 ms a trace lookup took at 100K spans; 1 MiB granules read it in ~3 ms). The
 * time-sorted traces table is read from its newest end for a first page, where a smaller granule is
 * also less to read. The cost: about 10× the marks (still kilobytes per million rows) and ~15% more
 * disk for spans (compression blocks end at granule ends). Smaller granules than 1 MiB read no faster
 * (measured 256 KiB: the rest of a lookup is a cost per column read).
 */
const POINT_READ = (bytes: number): string => `${DEDUP}, index_granularity_bytes = ${bytes}`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'spans, traces, events, assessments',
    statements: [
      `CREATE TABLE IF NOT EXISTS spans (
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
      ) ENGINE = ReplacingMergeTree
      PARTITION BY toDate(start_time)
      ORDER BY (project, trace_id, span_id)
      SETTINGS ${DEDUP}`,
      `CREATE TABLE IF NOT EXISTS traces (
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
      ) ENGINE = ReplacingMergeTree(version)
      PARTITION BY toDate(request_time)
      ORDER BY (project, request_time, trace_id)
      SETTINGS ${DEDUP}`,
      // The span columns searches filter on, sorted by time: a span condition over a one-hour window
      // reads that hour's spans instead of every span of the window's traces, wherever they lie in the
      // trace-sorted spans table. Filled by a materialized view as spans are inserted.
      `CREATE TABLE IF NOT EXISTS span_index (
        project LowCardinality(String),
        start_time DateTime64(9),
        trace_id String,
        span_id String,
        name String,
        span_type LowCardinality(String),
        model LowCardinality(String),
        session_id String,
        user_id String,
        tags Map(String, String),
        metadata Map(String, String)
      ) ENGINE = ReplacingMergeTree
      PARTITION BY toDate(start_time)
      ORDER BY (project, toStartOfHour(start_time), trace_id, span_id)
      SETTINGS ${DEDUP}`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS span_index_mv TO span_index AS
        SELECT project, start_time, trace_id, span_id, name, span_type, model, session_id, user_id, tags, metadata FROM spans`,
      `CREATE TABLE IF NOT EXISTS events (
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
      ) ENGINE = ReplacingMergeTree
      PARTITION BY toDate(time)
      ORDER BY (project, trace_id, span_id, time_ns, event_id)
      SETTINGS ${DEDUP}`,
      `CREATE TABLE IF NOT EXISTS assessments (
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
      ) ENGINE = MergeTree
      PARTITION BY toYYYYMM(created_time)
      ORDER BY (project, trace_id, assessment_id)
      SETTINGS ${DEDUP}`,
    ],
  },
  {
    version: 2,
    name: 'write journal',
    statements: [
      // What a write is about to insert, kept until every insert of it has committed (see writer.ts):
      // one partition per write, so the insert that journals it is one part (atomic) and finishing it is
      // a DROP PARTITION. A write found here at start-up is replayed with the same deduplication tokens.
      `CREATE TABLE IF NOT EXISTS write_journal (
        batch_id String,
        seq UInt32,
        tbl LowCardinality(String),
        token String,
        body String CODEC(ZSTD(1))
      ) ENGINE = MergeTree
      PARTITION BY batch_id
      ORDER BY (batch_id, seq)
      SETTINGS ${DEDUP}`,
    ],
  },
  {
    // What MLflow's client keeps beside the spans (src/api/mlflow/): experiments' own records, trace-level
    // tags, metadata, session and user (StartTraceV3, set/delete tag, link-to-run), and evaluation runs.
    version: 3,
    name: 'experiments, trace_meta, runs',
    statements: [
      `CREATE TABLE IF NOT EXISTS experiments (
        experiment_id String,
        name String,
        artifact_location String,
        tags Map(String, String),
        creation_time_ms UInt64,
        version UInt64
      ) ENGINE = ReplacingMergeTree(version)
      ORDER BY experiment_id
      SETTINGS ${DEDUP}`,
      // One row per change of one key (field: tag, metadata, session_id, user_id, run): concurrent writers of
      // different keys never overwrite each other; readers take the highest version per key.
      `CREATE TABLE IF NOT EXISTS trace_meta (
        project LowCardinality(String),
        trace_id String,
        field LowCardinality(String),
        key String,
        value String CODEC(ZSTD(3)),
        version UInt64,
        deleted UInt8
      ) ENGINE = MergeTree
      ORDER BY (project, trace_id, field, key)
      SETTINGS ${DEDUP}`,
      // A run as one JSON document per version; the highest version wins.
      `CREATE TABLE IF NOT EXISTS runs (
        run_id String,
        experiment_id String,
        doc String CODEC(ZSTD(3)),
        version UInt64
      ) ENGINE = ReplacingMergeTree(version)
      ORDER BY run_id
      SETTINGS ${DEDUP}`,
    ],
  },
  {
    version: 4,
    name: 'api keys',
    statements: [
      // One row per change of a key (created, revoked): readers take the latest fields per id and the
      // earliest revocation, so a revoke is never undone by a concurrent write. Only a salted SHA-256 of
      // the secret is kept. Last use lives in its own table, so recording it cannot race a revoke.
      `CREATE TABLE IF NOT EXISTS api_keys (
        id String,
        version UInt64,
        name String,
        project String,
        scopes Array(LowCardinality(String)),
        salt String,
        hash String,
        created_ms UInt64,
        expires_ms UInt64,
        revoked_ms UInt64
      ) ENGINE = MergeTree
      ORDER BY (id, version)`,
      `CREATE TABLE IF NOT EXISTS api_key_usage (
        id String,
        last_used_ms UInt64
      ) ENGINE = ReplacingMergeTree(last_used_ms)
      ORDER BY id`,
    ],
  },
  {
    // Reading one trace by id (trace detail, batchGet, the evaluator) without scanning per-granule indexes
    // that grow with the store:
    // - `trace_locator` maps a trace id to its `traces` rows' request times, so the row is read through
    //   the traces key (project, request_time, trace_id): one granule instead of a bloom-filter check of
    //   every granule. Filled by a materialized view; existing rows are copied once (after the view
    //   exists, so a row written meanwhile is in one or both: duplicates collapse and are harmless).
    // - a bloom filter on spans.trace_id: every part's key range holds a granule for any id, so a lookup
    //   read one ~3,000-row granule of wide payload columns per part; the filter skips the parts that do
    //   not hold the trace. Parts written before it get it as they merge.
    version: 6,
    name: 'trace lookups by id',
    statements: [
      `CREATE TABLE IF NOT EXISTS trace_locator (
        project LowCardinality(String),
        trace_id String,
        request_time DateTime64(9)
      ) ENGINE = ReplacingMergeTree
      ORDER BY (project, trace_id, request_time)
      SETTINGS ${DEDUP}, index_granularity = 1024`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS trace_locator_mv TO trace_locator AS
        SELECT project, trace_id, request_time FROM traces`,
      `INSERT INTO trace_locator (project, trace_id, request_time) SELECT project, trace_id, request_time FROM traces`,
      `ALTER TABLE spans ADD INDEX IF NOT EXISTS idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1`,
    ],
  },
  {
    version: 7,
    name: 'granules sized for trace lookups',
    statements: [],
    rebuild: [
      { table: 'spans', engine: 'ReplacingMergeTree PARTITION BY toDate(start_time) ORDER BY (project, trace_id, span_id)', settings: POINT_READ(1 << 20) },
      {
        table: 'traces',
        engine: 'ReplacingMergeTree(version) PARTITION BY toDate(request_time) ORDER BY (project, request_time, trace_id)',
        settings: POINT_READ(1 << 20),
      },
      {
        table: 'events',
        engine: 'ReplacingMergeTree PARTITION BY toDate(time) ORDER BY (project, trace_id, span_id, time_ns, event_id)',
        settings: POINT_READ(256 << 10),
      },
      {
        table: 'assessments',
        engine: 'MergeTree PARTITION BY toYYYYMM(created_time) ORDER BY (project, trace_id, assessment_id)',
        settings: POINT_READ(256 << 10),
      },
    ],
  },
  {
    // A trace's `traces` rows start when one of its spans does (the root's row at the root's start, a
    // placeholder at a batch's earliest span), so a trace by id finds its root row through its root
    // span's start, read by key from the spans: the locator's view was a fourth part in every write
    // (issue 14, embedded ingest).
    version: 8,
    name: 'trace lookups through the spans',
    statements: ['DROP VIEW IF EXISTS trace_locator_mv', 'DROP TABLE IF EXISTS trace_locator'],
  },
];

/** Tables whose rows expire after the configured retention, with the time column the TTL uses. */
export const RETENTION_TABLES: ReadonlyArray<{ table: string; column: string }> = [
  { table: 'spans', column: 'start_time' },
  { table: 'span_index', column: 'start_time' },
  { table: 'traces', column: 'request_time' },
  { table: 'events', column: 'time' },
];
