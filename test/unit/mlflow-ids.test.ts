import { describe, expect, it } from 'vitest';
import { attributeValue } from '../../src/api/mlflow/convert.js';
import { MlflowError, toMlflowError } from '../../src/api/mlflow/errors.js';
import { experimentIdFor, hexTraceId, nameForProject, projectForName } from '../../src/api/mlflow/ids.js';
import { splitRunFilter } from '../../src/api/mlflow/routes.js';
import { ApiError } from '../../src/api/errors.js';

describe('MLflow ids and mappings', () => {
  it('derives experiment ids from project names alone: stable, decimal, 0 for default', () => {
    expect(experimentIdFor('default')).toBe('0');
    expect(experimentIdFor('sales-emails')).toBe(experimentIdFor('sales-emails'));
    expect(experimentIdFor('sales-emails')).toMatch(/^[1-9]\d{0,15}$/);
    expect(experimentIdFor('a')).not.toBe(experimentIdFor('b'));
    expect(Number.isSafeInteger(Number(experimentIdFor('x')))).toBe(true);
    expect(projectForName('Default')).toBe('default');
    expect(nameForProject('default')).toBe('Default');
    expect(nameForProject('app')).toBe('app');
  });

  it('reads a trace id in either form, refusing anything else as a 400', () => {
    const hex = '0123456789abcdef0123456789abcdef';
    expect(hexTraceId(`tr-${hex}`)).toBe(hex);
    expect(hexTraceId(hex.toUpperCase())).toBe(hex);
    for (const bad of ['tr-123', 'get', '', null, 5]) {
      expect(() => hexTraceId(bad)).toThrowError(MlflowError);
    }
  });

  it('takes the run_id clause out of a filter, keeping the rest', () => {
    expect(splitRunFilter("attribute.run_id = 'r1'")).toEqual({ filter: '', runId: 'r1' });
    expect(splitRunFilter('trace.status = \'OK\' AND attributes.run_id = "r2"')).toEqual({ filter: "trace.status = 'OK'", runId: 'r2' });
    expect(splitRunFilter("run_id = 'r3' AND timestamp > 5")).toEqual({ filter: 'timestamp > 5', runId: 'r3' });
    expect(splitRunFilter("tag.x = 'run_id'")).toEqual({ filter: "tag.x = 'run_id'", runId: null });
  });

  it('sends stored JSON text as the typed value it encodes, other text as itself', () => {
    expect(attributeValue('"AGENT"')).toEqual({ string_value: 'AGENT' });
    expect(attributeValue('plain text')).toEqual({ string_value: 'plain text' });
    expect(attributeValue('{"a": {}}')).toEqual({ kvlist_value: { values: [{ key: 'a', value: { kvlist_value: { values: [] } } }] } });
    expect(attributeValue('null')).toEqual({});
    expect(attributeValue(3)).toEqual({ int_value: '3' });
  });

  it('answers expected conditions with 4xx codes and only the store being away with 503', () => {
    expect(toMlflowError(new ApiError('NOT_FOUND', 'x')).status).toBe(404);
    expect(toMlflowError(new ApiError('INVALID_PARAMETER', 'x')).code).toBe('INVALID_PARAMETER_VALUE');
    expect(toMlflowError(new TypeError('bug')).code).toBe('INTERNAL_ERROR');
    expect(toMlflowError(Object.assign(new Error('down'), { code: 'ECONNREFUSED' })).status).toBe(503);
  });
});
