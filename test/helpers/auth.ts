/** A bootstrap admin key for tests (never a real one). */
export const BOOTSTRAP_KEY = 'test-bootstrap-admin-key-0123456789';

export interface CreatedKey {
  id: string;
  secret: string;
}

export async function createKey(
  api: string,
  admin: string,
  body: { project?: string; scopes: string[]; name?: string; expires_in?: string },
): Promise<CreatedKey> {
  const res = await fetch(`${api}/api/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { key: { id: string }; secret: string };
  if (res.status !== 201) throw new Error(`creating a key: HTTP ${res.status} ${JSON.stringify(json)}`);
  return { id: json.key.id, secret: json.secret };
}

export async function revokeKey(api: string, admin: string, id: string): Promise<void> {
  const res = await fetch(`${api}/api/v1/keys/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${admin}` } });
  if (res.status !== 200) throw new Error(`revoking a key: HTTP ${res.status} ${await res.text()}`);
}

/** Waits for `ok()` with a generous deadline (never a fixed sleep). */
export async function waitFor(ok: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
