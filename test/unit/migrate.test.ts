import { describe, expect, it } from 'vitest';
import { forCluster } from '../../src/exporters/clickhouse/migrate.js';
import { MIGRATIONS } from '../../src/exporters/clickhouse/schema.js';

describe('cluster DDL', () => {
  it('leaves single-server DDL unchanged', () => {
    for (const s of MIGRATIONS.flatMap((m) => m.statements)) expect(forCluster(s, '')).toBe(s);
  });

  it('creates and drops every table and view ON CLUSTER, tables with the Replicated variant of their engine', () => {
    const ddl = MIGRATIONS.flatMap((m) => m.statements).map((s) => forCluster(s, 'traces_cluster'));
    for (const s of ddl) {
      if (/^\s*INSERT INTO/.test(s)) continue;
      if (/^\s*ALTER TABLE/.test(s)) {
        expect(s).toMatch(/^\s*ALTER TABLE \w+ ON CLUSTER traces_cluster /);
        continue;
      }
      if (/^\s*DROP/.test(s)) {
        expect(s).toMatch(/^\s*DROP (TABLE|VIEW) IF EXISTS \w+ ON CLUSTER traces_cluster$/);
        continue;
      }
      expect(s).toMatch(/^\s*CREATE (TABLE|MATERIALIZED VIEW) IF NOT EXISTS \w+ ON CLUSTER traces_cluster /);
      if (/CREATE TABLE/.test(s)) expect(s).toMatch(/ENGINE = Replicated(Replacing)?MergeTree/);
      expect(s).not.toMatch(/ENGINE = (Replacing)?MergeTree/);
    }
    expect(ddl.find((s) => s.includes(' traces '))).toMatch(/ENGINE = ReplicatedReplacingMergeTree\(version\)/);
    expect(ddl.find((s) => s.includes(' assessments '))).toMatch(/ENGINE = ReplicatedMergeTree\n/);
  });
});
