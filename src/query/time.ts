/** Parses a time given as epoch milliseconds or ISO 8601 into nanoseconds; null when it is neither. */
export function parseTimeToNs(value: string): bigint | null {
  const v = value.trim();
  if (/^\d{1,16}$/.test(v)) return BigInt(v) * 1_000_000n;
  if (!/^\d{4}-\d{2}-\d{2}/.test(v)) return null;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? null : BigInt(ms) * 1_000_000n;
}
