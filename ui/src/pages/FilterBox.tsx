import { useEffect, useRef, useState } from 'react';
import { ApiFailure } from '../api';

export const FILTER_KEYS = [
  'trace.status',
  'trace.name',
  'trace.text',
  'trace.timestamp_ms',
  'trace.execution_time_ms',
  'trace.session_id',
  'trace.user_id',
  'span.name',
  'span.type',
  'span.model',
  'span.attributes.',
  'tag.',
  'metadata.',
  'feedback.',
  'expectation.',
];

/** The word being typed at the cursor, and where it starts. */
function wordAt(text: string, cursor: number): { word: string; start: number } {
  let start = cursor;
  while (start > 0 && /[\w.`-]/.test(text[start - 1] ?? '')) start--;
  return { word: text.slice(start, cursor), start };
}

/**
 * The search box: MLflow's filter grammar with key completion (Tab or Enter takes the highlighted key) and
 * the API's INVALID_FILTER answer shown under the character where parsing stopped.
 */
export function FilterBox({ value, onSubmit, error, extraKeys }: { value: string; onSubmit: (f: string) => void; error: unknown; extraKeys: string[] }) {
  const [text, setText] = useState(value);
  const [cursor, setCursor] = useState(0);
  const [open, setOpen] = useState(false);
  const [hi, setHi] = useState(0);
  const ref = useRef<HTMLInputElement>(null);
  useEffect(() => setText(value), [value]);
  const { word, start } = wordAt(text, cursor);
  const keys = [...new Set([...FILTER_KEYS, ...extraKeys])];
  const suggestions = open && word.length > 0 ? keys.filter((k) => k.startsWith(word) && k !== word).slice(0, 8) : [];
  const take = (k: string): void => {
    const next = text.slice(0, start) + k + (k.endsWith('.') ? '' : ' ') + text.slice(cursor);
    const pos = start + k.length + (k.endsWith('.') ? 0 : 1);
    setText(next);
    setCursor(pos);
    requestAnimationFrame(() => ref.current?.setSelectionRange(pos, pos));
  };
  const bad = error instanceof ApiFailure && error.code === 'INVALID_FILTER' ? error : null;
  const position = typeof bad?.details.position === 'number' ? bad.details.position : null;
  return (
    <div className="filter">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setOpen(false);
          onSubmit(text.trim());
        }}
      >
        <input
          ref={ref}
          aria-label="filter"
          data-testid="filter"
          className={bad ? 'bad' : ''}
          placeholder="filter, e.g. trace.status = 'ERROR' AND span.type = 'RETRIEVER'   (press / to focus)"
          value={text}
          spellCheck={false}
          onChange={(e) => {
            setText(e.target.value);
            setCursor(e.target.selectionStart ?? e.target.value.length);
            setOpen(true);
            setHi(0);
          }}
          onKeyDown={(e) => {
            if (suggestions.length === 0) return;
            if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
              e.preventDefault();
              setHi((h) => (h + (e.key === 'ArrowDown' ? 1 : suggestions.length - 1)) % suggestions.length);
            } else if (e.key === 'Tab' || (e.key === 'Enter' && open)) {
              e.preventDefault();
              take(suggestions[hi] ?? suggestions[0]!);
            } else if (e.key === 'Escape') setOpen(false);
          }}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
        />
        <button type="submit">Search</button>
      </form>
      {suggestions.length > 0 ? (
        <div className="suggest" role="listbox">
          {suggestions.map((k, i) => (
            <div key={k} role="option" tabIndex={-1} aria-selected={i === hi} className={i === hi ? 'on' : ''} onMouseDown={() => take(k)}>
              {k}
            </div>
          ))}
        </div>
      ) : null}
      {bad ? (
        <div className="filter-error" data-testid="filter-error">
          {position !== null ? (
            <pre className="caret">
              {value}
              {'\n'}
              {`${' '.repeat(Math.max(0, position))}^`}
            </pre>
          ) : null}
          <span>{bad.message}</span>
        </div>
      ) : null}
    </div>
  );
}
