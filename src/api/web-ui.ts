/**
 * The web UI's files, served by the API at `/` (the JSON API stays under /api). The UI is a single-page
 * app: a path that names no file gets index.html, so a shared link to /traces/<id> opens that view.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawReply } from './reply.js';
import type { Route } from './server.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Where the build puts the UI: dist/ui beside dist/api when running the build, or from src/ in tests. */
export function defaultUiDir(): string | null {
  for (const rel of ['../ui/', '../../dist/ui/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return null;
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>tracehouse</title>
<p>The tracehouse web UI is not built in this installation. Run <code>npm run build:ui</code> (or <code>npm install</code>) and restart.
The JSON API is at <a href="/api/v1/traces">/api/v1/traces</a>.</p>`;

/**
 * Files are read once and kept: the build is a few hundred KB, fixed for the life of the process.
 * Hashed assets (Vite names them by content) are cached for a year; index.html is revalidated every time
 * so a new build is picked up on reload.
 */
export function webUiRoutes(dir: string | null = defaultUiDir()): Route[] {
  const cache = new Map<string, RawReply | null>();
  const load = async (rel: string): Promise<RawReply | null> => {
    if (cache.has(rel)) return cache.get(rel) ?? null;
    let out: RawReply | null = null;
    if (dir) {
      const file = normalize(join(dir, rel));
      if (file.startsWith(dir.endsWith(sep) ? dir : dir + sep) && (await stat(file).catch(() => null))?.isFile()) {
        const immutable = rel.startsWith(`assets${sep}`) || rel.startsWith('assets/');
        out = new RawReply(
          200,
          {
            'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
            'Cache-Control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
            'X-Content-Type-Options': 'nosniff',
          },
          await readFile(file),
        );
      }
    }
    if (cache.size < 1000) cache.set(rel, out);
    return out;
  };
  return [
    {
      method: 'GET',
      // Everything but the JSON API (ops paths like /healthz are answered before any route).
      pattern: /^\/(?!api(?:\/|$))(.*)$/,
      // Static files of the UI: no trace data (the UI's own API calls need a key when keys are on).
      auth: 'public',
      handler: async (_req, _url, m) => {
        let rel = '';
        try {
          rel = decodeURIComponent(m[1] ?? '');
        } catch {
          rel = '';
        }
        const file = rel && !rel.endsWith('/') ? await load(rel) : null;
        if (file) return file;
        // A missing asset is a 404, not the app: a stale tab asking for an old bundle must not get HTML.
        if (extname(rel) !== '') return new RawReply(404, { 'Content-Type': 'text/plain; charset=utf-8' }, Buffer.from('not found\n'));
        return (
          (await load('index.html')) ?? new RawReply(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' }, Buffer.from(NOT_BUILT))
        );
      },
    },
  ];
}
