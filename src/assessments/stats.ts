import type { ClickHouseClient } from '@clickhouse/client';

export interface StatsParams {
  project: string;
  names: string[];
  fromNs: bigint;
  toNs: bigint;
  bucketSeconds: number;
}

export interface StatsBucket {
  /** Start of the bucket. */
  startNs: bigint;
  name: string;
  count: number;
  /** Verdicts that pass (`yes`/`true`) and fail (`no`/`false`); other values count in neither. */
  pass: number;
  fail: number;
  errors: number;
  /** pass / (pass + fail), null when there were no verdicts. */
  pass_rate: number | null;
  /** Mean of numeric values, null when none were numeric. */
  mean: number | null;
}

/**
 * Quality over time: per feedback name and time bucket (by when the assessment was made), how many
 * passed, failed or errored. Uses each assessment's current version, valid and not deleted.
 */
export async function assessmentStats(client: ClickHouseClient, p: StatsParams): Promise<StatsBucket[]> {
  const rs = await client.query({
    query: `
      SELECT toUnixTimestamp(toStartOfInterval(created_time, toIntervalSecond({bucket:UInt32}))) AS bucket_s, name,
             count() AS count,
             countIf(error = '' AND lower(value_text) IN ('yes', 'true', '"yes"')) AS pass,
             countIf(error = '' AND lower(value_text) IN ('no', 'false', '"no"')) AS fail,
             countIf(error != '') AS errors,
             avgOrNull(toFloat64OrNull(value_text)) AS mean
      FROM (
        SELECT name, value_text, error, created_time, valid, deleted FROM assessments
        WHERE project = {project:String} AND kind = 'feedback'
          AND created_time >= fromUnixTimestamp64Nano({from_ns:Int64}) AND created_time < fromUnixTimestamp64Nano({to_ns:Int64})
          ${p.names.length ? 'AND name IN {names:Array(String)}' : ''}
        ORDER BY assessment_id, version DESC LIMIT 1 BY assessment_id)
      WHERE valid = 1 AND deleted = 0
      GROUP BY bucket_s, name ORDER BY bucket_s, name`,
    query_params: { project: p.project, names: p.names, from_ns: p.fromNs.toString(), to_ns: p.toNs.toString(), bucket: p.bucketSeconds },
    format: 'JSONEachRow',
  });
  const rows = await rs.json<{
    bucket_s: string | number;
    name: string;
    count: string | number;
    pass: string | number;
    fail: string | number;
    errors: string | number;
    mean: number | null;
  }>();
  return rows.map((r) => {
    const pass = Number(r.pass);
    const fail = Number(r.fail);
    return {
      startNs: BigInt(r.bucket_s) * 1_000_000_000n,
      name: r.name,
      count: Number(r.count),
      pass,
      fail,
      errors: Number(r.errors),
      pass_rate: pass + fail > 0 ? pass / (pass + fail) : null,
      mean: r.mean === null ? null : Number(r.mean),
    };
  });
}

/** `15m`, `1h`, `1d` or plain seconds. */
export function parseBucket(text: string): number | null {
  const m = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!m) return null;
  const unit: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };
  const n = Number(m[1]) * (unit[m[2] ?? ''] ?? 1);
  return n >= 1 && n <= 366 * 86400 ? n : null;
}
