import type { ClickHouseClient } from '@clickhouse/client';

/**
 * The one way rows go into the store. The deduplication token is always set, to '' when the caller has
 * none: a chDB connection keeps per-query settings for the rest of its session, so a token left over from
 * an earlier insert would make the next, unrelated insert look like a duplicate and drop it silently.
 */
export async function insertRows(client: ClickHouseClient, table: string, values: readonly object[], dedupToken = ''): Promise<void> {
  if (values.length === 0) return;
  await client.insert({
    table,
    values: values as object[],
    format: 'JSONEachRow',
    clickhouse_settings: { insert_deduplication_token: dedupToken },
  });
}
