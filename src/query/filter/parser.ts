import { FilterSyntaxError } from './errors.js';
import { KEY_HINT, TRACE_STATES, allowedOps, resolveKey, valueKind, type KeySpec, type Op, type TraceField, type ValueKind } from './keys.js';
import { Lexer, describeToken, type Token } from './lexer.js';

export type Operand =
  | { type: 'none' }
  | { type: 'string'; value: string }
  | { type: 'number'; value: number; integer: boolean }
  | { type: 'strings'; values: string[] }
  | { type: 'numbers'; values: number[]; integer: boolean };

export interface Condition {
  key: KeySpec;
  op: Op;
  operand: Operand;
}

export interface OrderTerm {
  field: TraceField;
  descending: boolean;
}

type Literal = { type: 'string'; text: string } | { type: 'number'; value: number; integer: boolean };

const OPERATOR_HINT = 'an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, RLIKE, IN, NOT IN, IS NULL, IS NOT NULL)';
const NUMBER_LIMIT = 'a number between -9007199254740991 and 9007199254740991';

function describeKind(kind: ValueKind): string {
  switch (kind) {
    case 'string':
      return 'a quoted string';
    case 'number':
      return 'a number';
    case 'status':
      return `a quoted status (${TRACE_STATES.join(', ')})`;
    default:
      return 'a value (quoted string or number)';
  }
}

class Parser {
  private tok: Token;

  constructor(private readonly lexer: Lexer) {
    this.tok = lexer.next();
  }

  filter(): Condition[] {
    if (this.peek().kind === 'eof') return [];
    const conditions = [this.condition()];
    while (this.peek().kind !== 'eof') {
      if (!this.isKeyword('AND')) this.fail('AND or end of input');
      this.advance();
      conditions.push(this.condition());
    }
    return conditions;
  }

  orderBy(): OrderTerm[] {
    const terms: OrderTerm[] = [];
    if (this.peek().kind === 'eof') return terms;
    for (;;) {
      const keyTok = this.peek();
      const key = this.key();
      if (key.family !== 'trace') {
        this.fail('a sortable key (trace.timestamp_ms, trace.execution_time_ms, trace.status or trace.name)', keyTok);
      }
      const directed = this.isKeyword('DESC') || this.isKeyword('ASC');
      const descending = directed && this.advance().text.toUpperCase() === 'DESC';
      terms.push({ field: key.field, descending });
      if (this.peek().kind === 'eof') return terms;
      if (this.peek().kind !== 'comma') this.fail(directed ? '"," or end of input' : 'ASC, DESC, "," or end of input');
      this.advance();
    }
  }

  private condition(): Condition {
    const key = this.key();
    const opTok = this.peek();
    const op = this.operator();
    const ops = allowedOps(key);
    if (!ops.includes(op)) this.fail(`an operator allowed for ${key.label} (${ops.join(', ')})`, opTok);
    const kind = valueKind(key, op);
    if (kind === 'none') return { key, op, operand: { type: 'none' } };
    if (op === 'IN' || op === 'NOT IN') return { key, op, operand: this.list(kind) };
    const valueTok = this.peek();
    const lit = this.literal(kind);
    // ClickHouse rejects a LIKE pattern ending in its escape character at query time; make it a 400 here.
    const trailingBackslashes = lit.type === 'string' ? /\\*$/.exec(lit.text)![0].length : 0;
    if ((op === 'LIKE' || op === 'ILIKE') && trailingBackslashes % 2 === 1) {
      this.fail('a LIKE pattern that does not end in an unpaired backslash (the LIKE escape character)', valueTok);
    }
    return { key, op, operand: lit.type === 'number' ? lit : { type: 'string', value: lit.text } };
  }

  /** A dotted key; the parts must touch their dots, so "tag .x" is not read as one key. */
  private key(): KeySpec {
    const start = this.peek();
    if (start.kind !== 'word' && start.kind !== 'backtick') this.fail(KEY_HINT);
    const parts = [this.advance().text];
    let end = start.end;
    while (this.peek().kind === 'dot' && this.peek().pos === end) {
      const dot = this.advance();
      const part = this.peek();
      const isName = part.kind === 'word' || part.kind === 'backtick' || part.kind === 'string' || (part.kind === 'number' && !part.raw.startsWith('-'));
      if (!isName || part.pos !== dot.end) this.fail('a name right after "."');
      parts.push(this.advance().text);
      end = part.end;
    }
    const resolved = resolveKey(parts);
    if (resolved === null) {
      const raw = this.lexer.input.slice(start.pos, end);
      throw new FilterSyntaxError(start.pos, KEY_HINT, describeToken({ ...start, raw, end }), this.lexer.source);
    }
    if ('missing' in resolved) this.fail(resolved.missing);
    return resolved;
  }

  private operator(): Op {
    const t = this.peek();
    if (t.kind === 'op') {
      this.advance();
      return t.text === '<>' ? '!=' : (t.text as Op);
    }
    if (t.kind === 'word') {
      const word = t.text.toUpperCase();
      if (word === 'LIKE' || word === 'ILIKE' || word === 'RLIKE' || word === 'IN') {
        this.advance();
        return word;
      }
      if (word === 'NOT') {
        this.advance();
        if (!this.isKeyword('IN')) this.fail('IN after NOT');
        this.advance();
        return 'NOT IN';
      }
      if (word === 'IS') {
        this.advance();
        const negated = this.isKeyword('NOT');
        if (negated) this.advance();
        if (!this.isKeyword('NULL')) this.fail(negated ? 'NULL after IS NOT' : 'NULL or NOT NULL after IS');
        this.advance();
        return negated ? 'IS NOT NULL' : 'IS NULL';
      }
    }
    return this.fail(OPERATOR_HINT);
  }

  private list(kind: ValueKind): Operand {
    if (this.peek().kind !== 'lparen') this.fail('"(" to start a list of values');
    this.advance();
    const items: Literal[] = [];
    for (;;) {
      // Mixed lists cannot become one typed Array parameter: the first item fixes the type.
      const first = items[0];
      const itemKind: ValueKind = kind === 'either' && first ? first.type : kind;
      items.push(this.literal(itemKind, first !== undefined && kind === 'either'));
      if (this.peek().kind === 'rparen') break;
      if (this.peek().kind !== 'comma') this.fail('"," or ")"');
      this.advance();
    }
    this.advance();
    const numbers = items.filter((i) => i.type === 'number');
    const strings = items.filter((i) => i.type === 'string');
    if (numbers.length > 0) {
      return { type: 'numbers', values: numbers.map((i) => i.value), integer: numbers.every((i) => i.integer) };
    }
    return { type: 'strings', values: strings.map((i) => i.text) };
  }

  private literal(kind: ValueKind, likeFirst = false): Literal {
    const t = this.peek();
    const suffix = likeFirst ? ' like the first item in the list' : '';
    if (t.kind === 'string' && kind !== 'number') {
      this.advance();
      if (kind !== 'status') return { type: 'string', text: t.text };
      const status = t.text.toUpperCase();
      if (!(TRACE_STATES as readonly string[]).includes(status)) this.fail(`one of ${TRACE_STATES.join(', ')}`, t);
      return { type: 'string', text: status };
    }
    if (t.kind === 'number' && (kind === 'number' || kind === 'either')) {
      const integer = /^-?\d+$/.test(t.raw);
      const value = Number(t.raw);
      if (!Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) this.fail(NUMBER_LIMIT);
      this.advance();
      return { type: 'number', value, integer };
    }
    return this.fail(describeKind(kind) + suffix);
  }

  /** A method rather than a field read, so TypeScript does not keep a narrowing across advance(). */
  private peek(): Token {
    return this.tok;
  }

  private isKeyword(word: string): boolean {
    return this.peek().kind === 'word' && this.peek().text.toUpperCase() === word;
  }

  private advance(): Token {
    const t = this.peek();
    this.tok = this.lexer.next();
    return t;
  }

  private fail(expected: string, at: Token = this.peek()): never {
    throw new FilterSyntaxError(at.pos, expected, describeToken(at), this.lexer.source);
  }
}

export function parseFilter(input: string): Condition[] {
  return new Parser(new Lexer(input, 'filter')).filter();
}

export function parseOrderBy(input: string, source: string): OrderTerm[] {
  return new Parser(new Lexer(input, source)).orderBy();
}
