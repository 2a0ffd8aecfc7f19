import type { ClickHouseClient } from '@clickhouse/client';
import { Readable } from 'node:stream';

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

/**
 * Inserts text already in `format` (JSONEachRow lines, TabSeparated rows), sent as the request body, so a
 * ClickHouse server receives it as a stream; chDB joins it to the statement, which is why callers bound
 * its size. `table` is one of ours, never user input.
 */
export async function insertText(
  client: ClickHouseClient,
  table: string,
  text: string,
  format: 'JSONEachRow' | 'TabSeparated',
  dedupToken = '',
): Promise<void> {
  if (text.length === 0) return;
  const result = await client.exec({
    query: `INSERT INTO ${table} FORMAT ${format}`,
    values: Readable.from([text], { objectMode: false }),
    clickhouse_settings: { insert_deduplication_token: dedupToken },
  });
  // The answer to an insert is empty, but it must be read for the connection to be reused.
  await new Promise<void>((resolve) => {
    result.stream
      .on('end', resolve)
      .on('close', resolve)
      .on('error', () => resolve());
    result.stream.resume();
  });
}
