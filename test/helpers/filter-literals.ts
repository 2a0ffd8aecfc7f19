/** Filter-language literals that quote any string, for tests that feed hostile text through the grammar. */
/** Single-quoted. */
export function sq(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}
export function dq(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
export function bq(s: string): string {
  return `\`${s.replace(/\\/g, '\\\\').replace(/`/g, '``')}\``;
}
