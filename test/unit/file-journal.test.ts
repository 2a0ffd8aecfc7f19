import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileJournal } from '../../src/exporters/clickhouse/file-journal.js';

const root = mkdtempSync(join(tmpdir(), 'tracehouse-fjournal-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const statements = [
  { table: 'spans', token: 't-spans', bytes: new Uint8Array([1, 2, 3]) },
  { table: 'traces', token: 't-traces', bytes: new Uint8Array([4, 5]) },
];

describe('file journal recovery', () => {
  it('replays a complete write and deletes a pending one', async () => {
    const j = new FileJournal(join(root, 'a'));
    const done = await j.prepare('w1', statements, true);
    await j.prepare('w2', statements.slice(0, 1), false);
    const unreadable: string[] = [];
    const got = await j.recover((id) => unreadable.push(id));
    expect(got).toEqual([{ id: 'w1', dir: done.dir, statements: done.statements }]);
    expect(unreadable).toEqual([]);
    expect(readdirSync(j.dir)).toEqual(['w1']);
  });

  it('removes a finished write without leaving a replayable remnant, and forgets one already gone', async () => {
    const j = new FileJournal(join(root, 'b'));
    const w = await j.prepare('w1', statements, true);
    await j.remove(w);
    expect(readdirSync(j.dir)).toEqual([]);
    await expect(j.remove(w)).resolves.toBeUndefined();
  });

  it('drops a write whose deletion a crash cut short, rather than replaying it with files missing', async () => {
    const j = new FileJournal(join(root, 'c'));
    // Killed during the deletion after the rename: the renamed remnant.
    const w = await j.prepare('w1', statements, true);
    mkdirSync(`${w.dir}.removing`);
    writeFileSync(join(`${w.dir}.removing`, 'manifest.json'), '{}');
    // A deletion persisted only in part (its rename lost): a complete-looking write with a file gone.
    const half = await j.prepare('w2', statements, true);
    rmSync(join(half.dir, '0.bin'));
    const unreadable: string[] = [];
    const got = await j.recover((id) => unreadable.push(id));
    expect(got.map((x) => x.id)).toEqual(['w1']);
    expect(unreadable).toEqual(['w2']);
    expect(readdirSync(j.dir)).toEqual(['w1']);
    expect(existsSync(half.dir)).toBe(false);
  });
});
