/**
 * A filter or order_by string the user typed does not parse. The API answers 400 with `position` and
 * `expected`, so they must point at the offending token, not somewhere inside the compiler.
 */
export class FilterSyntaxError extends Error {
  /** 0-based character offset into the string that was parsed. */
  readonly position: number;
  /** What would have been accepted at `position`, phrased for a human. */
  readonly expected: string;
  /** What was found there instead: a quoted excerpt of the input, or "end of input". */
  readonly found: string;
  /** Which input was parsed: 'filter', 'order_by' or 'order_by[i]'. */
  readonly source: string;

  constructor(position: number, expected: string, found: string, source = 'filter') {
    super(`${source}: at position ${position}: expected ${expected}, got ${found}`);
    this.name = 'FilterSyntaxError';
    this.position = position;
    this.expected = expected;
    this.found = found;
    this.source = source;
  }
}
