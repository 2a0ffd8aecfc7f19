import { FilterSyntaxError } from './errors.js';

export type TokenKind =
  | 'word' // bare identifier or keyword (AND, IN, ...): keywords are recognized by the parser
  | 'backtick' // `quoted name`
  | 'string' // 'single' or "double" quoted
  | 'number'
  | 'op' // = != <> < <= > >=
  | 'lparen'
  | 'rparen'
  | 'comma'
  | 'dot'
  | 'unknown' // any other character: reported by the parser, which knows what it expected
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** Decoded text: the unescaped string for quoted tokens, the source text otherwise. */
  text: string;
  /** Exact source slice, for error messages. */
  raw: string;
  /** 0-based offsets into the input, end exclusive. */
  pos: number;
  end: number;
}

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// '-' may continue a bare name (tag.my-key) but not start one, so "x>-5" still lexes a negative number.
const WORD = /[\p{L}\p{N}_][\p{L}\p{N}_-]*/uy;
const WORD_START = /[\p{L}_]/u;
const WORD_CONT = /[\p{L}\p{N}_]/u;

const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '0': '\0',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '`': '`',
};

/** How a token is shown after "got" in an error message. */
export function describeToken(token: Token): string {
  if (token.kind === 'eof') return 'end of input';
  const raw = token.raw.length > 40 ? `${token.raw.slice(0, 40)}…` : token.raw;
  return JSON.stringify(raw);
}

/**
 * Pull-based tokenizer: the parser asks for one token at a time, so the first problem reported is the
 * leftmost one even when a later part of the input would not even tokenize.
 */
export class Lexer {
  private offset = 0;

  constructor(
    readonly input: string,
    readonly source: string,
  ) {}

  next(): Token {
    const s = this.input;
    while (this.offset < s.length && /\s/.test(s[this.offset]!)) this.offset++;
    const pos = this.offset;
    if (pos >= s.length) return { kind: 'eof', text: '', raw: '', pos, end: pos };
    const ch = s[pos]!;

    if (ch === "'" || ch === '"' || ch === '`') return this.quoted(ch);

    if (/\d/.test(ch) || (ch === '-' && /\d/.test(s[pos + 1] ?? ''))) {
      NUMBER.lastIndex = pos;
      const m = NUMBER.exec(s);
      if (m) {
        const after = s[pos + m[0].length] ?? '';
        // "2fa" in tag.2fa is a name, not the number 2 followed by junk.
        if (ch !== '-' && WORD_CONT.test(after)) return this.word(pos);
        return this.take('number', pos, pos + m[0].length);
      }
    }
    if (WORD_START.test(ch)) return this.word(pos);

    const two = s.slice(pos, pos + 2);
    if (two === '!=' || two === '<>' || two === '<=' || two === '>=') return this.take('op', pos, pos + 2);
    if (ch === '=' || ch === '<' || ch === '>') return this.take('op', pos, pos + 1);
    if (ch === '(') return this.take('lparen', pos, pos + 1);
    if (ch === ')') return this.take('rparen', pos, pos + 1);
    if (ch === ',') return this.take('comma', pos, pos + 1);
    if (ch === '.') return this.take('dot', pos, pos + 1);
    // One code point, so an emoji is not split into half surrogates in the error message.
    const cp = String.fromCodePoint(s.codePointAt(pos)!);
    return this.take('unknown', pos, pos + cp.length);
  }

  private take(kind: TokenKind, pos: number, end: number): Token {
    this.offset = end;
    const raw = this.input.slice(pos, end);
    return { kind, text: raw, raw, pos, end };
  }

  private word(pos: number): Token {
    WORD.lastIndex = pos;
    const m = WORD.exec(this.input)!;
    return this.take('word', pos, pos + m[0].length);
  }

  /** Quoted string or name: backslash escapes and a doubled quote both stand for the quote itself. */
  private quoted(quote: string): Token {
    const s = this.input;
    const pos = this.offset;
    let i = pos + 1;
    let text = '';
    while (i < s.length) {
      const ch = s[i]!;
      if (ch === '\\') {
        if (i + 1 >= s.length) break;
        const next = s[i + 1]!;
        // Unknown escapes keep their backslash so LIKE ('\%', '\_') and regex ('\d') escapes survive.
        text += ESCAPES[next] ?? `\\${next}`;
        i += 2;
        continue;
      }
      if (ch === quote) {
        if (s[i + 1] === quote) {
          text += quote;
          i += 2;
          continue;
        }
        this.offset = i + 1;
        return { kind: quote === '`' ? 'backtick' : 'string', text, raw: s.slice(pos, i + 1), pos, end: i + 1 };
      }
      text += ch;
      i++;
    }
    throw new FilterSyntaxError(pos, `a closing ${quote} for the ${quote === '`' ? 'name' : 'string'} that starts here`, 'end of input', this.source);
  }
}
