import { access, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * The embedded store's write journal, as files beside the engine's data: each statement's rows go to a
 * file anyway (the engine reads binary inserts from a file, see writer.ts), so journaling a write is
 * writing those files and a manifest into `<id>.pending/`, syncing them, and renaming the directory to
 * `<id>` — the rename is the commit point. A complete directory found at start-up is a write that may
 * have been cut short: it is run again with the same deduplication tokens. A `.pending` one never
 * started its statements (nothing was acknowledged for it) and is deleted. Compared with a journal table
 * this spares two engine statements per write (the journal insert and its DROP PARTITION).
 */

const PENDING = '.pending';
/** A finished write being deleted: renamed first, so a crash during the deletion leaves nothing to replay. */
const REMOVING = '.removing';
const MANIFEST = 'manifest.json';

export interface JournalStatement {
  table: string;
  token: string;
  /** The statement's rows, a file inside the write's directory. */
  file: string;
}

/** A write on disk: its directory and the statements to run, in order. */
export interface JournaledWrite {
  id: string;
  dir: string;
  statements: JournalStatement[];
}

const manifestSchema = z.object({
  version: z.literal(1),
  statements: z.array(z.object({ table: z.string(), token: z.string(), file: z.string().regex(/^[0-9]+\.bin$/) })),
});

async function writeFileSynced(path: string, data: Uint8Array | string, sync: boolean): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(data);
    if (sync) await fh.sync();
  } finally {
    await fh.close();
  }
}

async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export class FileJournal {
  constructor(readonly dir: string) {}

  /**
   * Writes a write's statement files. `journal` (more than one statement) makes it durable and complete
   * before returning; a single statement is atomic by itself, so its file stays `.pending` and unsynced:
   * a crash leaves nothing to replay.
   */
  async prepare(id: string, statements: ReadonlyArray<{ table: string; token: string; bytes: Uint8Array }>, journal: boolean): Promise<JournaledWrite> {
    const pending = join(this.dir, `${id}${PENDING}`);
    await mkdir(pending, { recursive: true });
    const listed: JournalStatement[] = statements.map((s, i) => ({ table: s.table, token: s.token, file: `${i}.bin` }));
    await Promise.all(statements.map((s, i) => writeFileSynced(join(pending, `${i}.bin`), s.bytes, journal)));
    if (!journal) return { id, dir: pending, statements: listed };
    await writeFileSynced(join(pending, MANIFEST), JSON.stringify({ version: 1, statements: listed }), true);
    await syncDir(pending);
    const done = join(this.dir, id);
    await rename(pending, done);
    await syncDir(this.dir);
    return { id, dir: done, statements: listed };
  }

  /**
   * Forgets a write: its statements have all committed, or will never be run. The directory is renamed
   * out of the way before it is deleted: a process killed in the middle of deleting it would otherwise
   * leave a complete-looking write with some of its files gone, which the next start would try to replay.
   */
  async remove(w: JournaledWrite): Promise<void> {
    const gone = `${w.dir}${REMOVING}`;
    try {
      await rename(w.dir, gone);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await rm(gone, { recursive: true, force: true });
  }

  /**
   * At start-up: deletes the `.pending` and `.removing` writes and returns the complete ones to replay,
   * oldest first. A complete write whose manifest cannot be read is reported through `onUnreadable` and
   * deleted. So is one that lacks a statement file. Files are synced before the commit rename, so a
   * missing one means a deletion was cut short and not fully persisted (a power loss after `remove`):
   * that write had finished.
   */
  async recover(onUnreadable: (id: string, err: unknown) => void): Promise<JournaledWrite[]> {
    await mkdir(this.dir, { recursive: true });
    const entries = await readdir(this.dir, { withFileTypes: true });
    const out: Array<JournaledWrite & { mtimeMs: number }> = [];
    for (const e of entries) {
      const dir = join(this.dir, e.name);
      if (!e.isDirectory() || e.name.endsWith(PENDING) || e.name.endsWith(REMOVING)) {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      try {
        const text = await readFile(join(dir, MANIFEST), 'utf8');
        const m = manifestSchema.parse(JSON.parse(text));
        for (const st of m.statements) await access(join(dir, st.file));
        const fh = await open(join(dir, MANIFEST), 'r');
        const mtimeMs = (await fh.stat()).mtimeMs;
        await fh.close();
        out.push({ id: e.name, dir, statements: m.statements, mtimeMs });
      } catch (err) {
        onUnreadable(e.name, err);
        await rm(dir, { recursive: true, force: true });
      }
    }
    return out.sort((a, b) => a.mtimeMs - b.mtimeMs).map(({ mtimeMs: _, ...w }) => w);
  }
}
