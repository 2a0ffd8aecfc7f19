import { z } from 'zod';
import { keyView } from '../api/key-routes.js';
import { parseDuration, scopeSchema } from '../auth/keys.js';
import { EVERY_PROJECT, KeyStore } from '../auth/store.js';
import { loadConfig } from '../config/load.js';
import { openStore } from '../exporters/clickhouse/client.js';
import { migrate } from '../exporters/clickhouse/migrate.js';
import { API_FLAGS, ApiClientError, apiRequest, setApiKey } from './api-client.js';
import type { CommandDef, ParsedArgs } from './command.js';
import { formatTable } from './table.js';

const optionsSchema = z
  .object({
    project: z.string().optional(),
    scope: z.string().optional(),
    name: z.string().default(''),
    expires: z.string().optional(),
    json: z.boolean().default(false),
    'api-url': z.url(),
    key: z.string().optional(),
    config: z.string().optional(),
  })
  .strict();

type KeyView = ReturnType<typeof keyView>;

/** Where the commands act: the running API, or the store when nothing runs. */
interface KeyBackend {
  list(): Promise<KeyView[]>;
  create(body: { name: string; project?: string; scopes: string[]; expires_in?: string }): Promise<{ key: KeyView; secret: string }>;
  revoke(id: string): Promise<KeyView | null>;
  close(): Promise<void>;
}

function apiBackend(url: string): KeyBackend {
  return {
    list: async () => (await apiRequest<{ keys: KeyView[] }>(url, 'GET', '/api/v1/keys')).keys,
    create: (body) => apiRequest(url, 'POST', '/api/v1/keys', {}, body),
    revoke: async (id) => {
      try {
        return (await apiRequest<{ key: KeyView }>(url, 'DELETE', `/api/v1/keys/${encodeURIComponent(id)}`)).key;
      } catch (err) {
        if (err instanceof ApiClientError && err.status === 404) return null;
        throw err;
      }
    },
    close: async () => {},
  };
}

async function storeBackend(configFile: string | undefined): Promise<KeyBackend> {
  const config = loadConfig({ file: configFile });
  const store = await openStore(config.store);
  await migrate(store.writer, config.store.cluster);
  const keys = new KeyStore(store.writer, store.reader);
  return {
    list: async () => (await keys.list()).map(keyView),
    create: async (b) => {
      const admin = b.scopes.includes('admin');
      const ms = b.expires_in ? (parseDuration(b.expires_in) ?? 0) : 0;
      const { key, secret } = await keys.create({
        name: b.name,
        project: admin ? EVERY_PROJECT : (b.project as string),
        scopes: b.scopes as z.infer<typeof scopeSchema>[],
        expiresMs: ms ? Date.now() + ms : 0,
      });
      return { key: keyView(key), secret };
    },
    revoke: async (id) => {
      const k = await keys.revoke(id);
      return k ? keyView(k) : null;
    },
    close: () => store.close(),
  };
}

/** Runs `op` against the API; if no API answers at all, against the store. */
async function withBackend<T>(o: z.infer<typeof optionsSchema>, op: (b: KeyBackend) => Promise<T>): Promise<T> {
  try {
    return await op(apiBackend(o['api-url']));
  } catch (err) {
    if (!(err instanceof ApiClientError) || err.status !== undefined) throw err;
    process.stderr.write(`tracehouse keys: no API at ${o['api-url']}; using the store directly\n`);
  }
  const b = await storeBackend(o.config);
  try {
    return await op(b);
  } finally {
    await b.close();
  }
}

const fail = (message: string, code = 2): number => {
  process.stderr.write(`tracehouse keys: ${message}\n`);
  return code;
};

export const keysCommand: CommandDef = {
  name: 'keys',
  summary: 'Create, list and revoke API keys, through the running API (or the store when none runs).',
  args: '<create|list|revoke> [ID]',
  positionals: { min: 1, max: 2 },
  flags: [
    { name: 'project', type: 'string', value: 'NAME', help: 'create: the project the key belongs to (not for admin keys)' },
    { name: 'scope', type: 'string', value: 'LIST', help: 'create: ingest, read, write and/or admin, comma-separated' },
    { name: 'name', type: 'string', value: 'N', help: 'create: a name to recognize the key by' },
    { name: 'expires', type: 'string', value: 'D', help: 'create: lifetime such as 90d, 12h or 30m (default: never)' },
    { name: 'json', type: 'boolean', help: 'print JSON instead of text' },
    { name: 'config', type: 'string', value: 'FILE', env: 'TRACEHOUSE_CONFIG', help: 'config file for the store, when no API runs' },
    ...API_FLAGS,
  ],
  example: 'tracehouse keys create --project sales-email --scope read,write --name reviewer --expires 90d',
  notes:
    'Scopes: ingest (OTLP), read (search, traces, assessments), write (feedback, expectations, evaluation results), admin (keys, every project). ' +
    'The secret is printed once, at create. Through the running API an admin key is needed (--key / TRACEHOUSE_API_KEY).',
  run: runKeysCommand,
};

/** `tracehouse keys create|list|revoke`. */
export async function runKeysCommand({ values, positionals: args }: ParsedArgs): Promise<number> {
  const [sub, ...positionals] = args;
  const parsed = optionsSchema.safeParse(values);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(`--${issue?.path.join('.')}: ${issue?.message}`);
  }
  const o = parsed.data;
  setApiKey(o.key);
  try {
    if (sub === 'create') {
      const scopes = (o.scope ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (!scopes.length) return fail('--scope is required: ingest, read, write and/or admin, comma-separated');
      const bad = scopes.find((s) => !scopeSchema.safeParse(s).success);
      if (bad) return fail(`--scope: unknown scope "${bad}" (ingest, read, write, admin)`);
      if (!scopes.includes('admin') && !o.project) return fail('--project is required: a key belongs to one project');
      if (o.expires !== undefined && parseDuration(o.expires) === null) return fail('--expires: must be like 90d, 12h or 30m');
      const created = await withBackend(o, (b) =>
        b.create({ name: o.name, scopes, ...(o.project ? { project: o.project } : {}), ...(o.expires ? { expires_in: o.expires } : {}) }),
      );
      if (o.json) process.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
      else {
        const k = created.key;
        process.stdout.write(
          `created key ${k.id} (project ${k.project}, scopes ${(k.scopes as string[]).join(',')}${k.expires ? `, expires ${k.expires}` : ''})\n` +
            `secret, shown only now:\n${created.secret}\n`,
        );
      }
      return 0;
    }
    if (sub === 'list') {
      const keys = await withBackend(o, (b) => b.list());
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ keys }, null, 2)}\n`);
        return 0;
      }
      const rows = [['ID', 'NAME', 'PROJECT', 'SCOPES', 'CREATED', 'EXPIRES', 'LAST USED', 'REVOKED']];
      const t = (v: unknown): string => (typeof v === 'string' ? v.replace(/\.\d+Z$/, 'Z') : '-');
      for (const k of keys) {
        rows.push([
          String(k.id),
          String(k.name || '-'),
          String(k.project),
          (k.scopes as string[]).join(','),
          t(k.created),
          t(k.expires),
          t(k.last_used),
          t(k.revoked),
        ]);
      }
      process.stdout.write(`${formatTable(rows)}\n${keys.length} key(s)\n`);
      return 0;
    }
    if (sub === 'revoke') {
      const id = positionals[0];
      if (!id || positionals.length > 1) return fail('revoke takes one key id (see "tracehouse keys list")');
      const k = await withBackend(o, (b) => b.revoke(id));
      if (!k) return fail(`no key ${id}`, 1);
      process.stdout.write(`revoked key ${k.id} at ${k.revoked}\n`);
      return 0;
    }
  } catch (err) {
    return fail((err as Error).message, 1);
  }
  return fail(`unknown subcommand "${sub}": create, list or revoke (see "tracehouse keys --help")`);
}
