import { describe, expect, it } from 'vitest';
import {
  comparePrecedence,
  matchRoute,
  parseRouteTemplate,
  RouteTemplateError,
  splitPath,
} from '../../local/host/routes.js';
import { resolveSettingExpressions } from '../../local/host.js';

const match = (template: string, path: string) => matchRoute(parseRouteTemplate(template), splitPath(path));

describe('route templates', () => {
  it('matches literal segments case-insensitively and captures parameters', () => {
    expect(match('v1/wells/{id}', '/V1/Wells/w-1')).toEqual({ id: 'w-1' });
    expect(match('v1/wells/{id}', '/v1/wells')).toBeUndefined();
    expect(match('v1/wells/{id}', '/v1/wells/a/b')).toBeUndefined();
    expect(match('v1/wells/{id}', '/v1/pumps/a')).toBeUndefined();
    expect(match('/v1/wells/', '/v1/wells/')).toEqual({});
    expect(match('', '/')).toEqual({});
    expect(match('', '/x')).toBeUndefined();
  });

  it('decodes parameter values', () => {
    expect(match('files/{name}', '/files/a%20b%2Fc')).toEqual({ name: 'a b/c' });
  });

  it('supports optional parameters and defaults at the end', () => {
    expect(match('items/{id?}', '/items')).toEqual({});
    expect(match('items/{id?}', '/items/3')).toEqual({ id: '3' });
    expect(match('page/{n:int=1}', '/page')).toEqual({ n: '1' });
    expect(match('page/{n:int=1}', '/page/4')).toEqual({ n: '4' });
    expect(() => parseRouteTemplate('a/{x?}/b')).toThrow(RouteTemplateError);
  });

  it('supports catch-all parameters', () => {
    expect(match('files/{*rest}', '/files/a/b/c')).toEqual({ rest: 'a/b/c' });
    expect(match('files/{**rest}', '/files')).toEqual({});
    expect(() => parseRouteTemplate('files/{*rest}/more')).toThrow(RouteTemplateError);
  });

  it.each([
    ['{v:int}', ['0', '-12', '2147483647'], ['abc', '1.5', '2147483648', '']],
    ['{v:long}', ['9223372036854775807'], ['9223372036854775808', 'x']],
    ['{v:bool}', ['true', 'FALSE'], ['yes', '1']],
    ['{v:alpha}', ['abcXYZ'], ['abc1', 'a-b']],
    [
      '{v:guid}',
      [
        '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
        '3F2504E04F8911D39A0C0305E82C3301',
        '{3f2504e0-4f89-11d3-9a0c-0305e82c3301}',
      ],
      ['3f2504e0-4f89-11d3-9a0c', 'not-a-guid'],
    ],
    ['{v:double}', ['1.5', '-2', '1e3'], ['1,5', 'abc']],
    ['{v:int:min(1)}', ['1', '99'], ['0', '-1']],
    ['{v:range(2,4)}', ['2', '4'], ['1', '5', 'x']],
    ['{v:length(3)}', ['abc'], ['ab', 'abcd']],
    ['{v:minlength(2):maxlength(3)}', ['ab', 'abc'], ['a', 'abcd']],
    ['{v:regex(^[a-z]{{2}}\\d$)}', ['ab1', 'AB1'], ['abc1', 'a1']],
  ])('constraint %s', (template, accepted, rejected) => {
    const route = parseRouteTemplate(`x/${template}`);
    for (const value of accepted) expect(matchRoute(route, ['x', value]), value).toEqual({ v: value });
    for (const value of rejected) expect(matchRoute(route, ['x', value]), value).toBeUndefined();
  });

  it('rejects unknown constraints and malformed templates', () => {
    expect(() => parseRouteTemplate('{id:nope}')).toThrow(/unknown route constraint "nope"/);
    expect(() => parseRouteTemplate('a/{id')).toThrow(RouteTemplateError);
    expect(() => parseRouteTemplate('a/{id}/{ID}')).toThrow(/repeats/);
    expect(() => parseRouteTemplate('a//b')).toThrow(/empty segment/);
  });

  it('matches complex segments', () => {
    expect(match('reports/{name}.{ext}', '/reports/q1.summary.pdf')).toEqual({
      name: 'q1',
      ext: 'summary.pdf',
    });
    expect(match('reports/{name}.{ext}', '/reports/q1')).toBeUndefined();
  });

  it('orders templates by ASP.NET inbound precedence', () => {
    const sorted = [
      'v1/sync/batches/{*rest}',
      'v1/sync/batches/{batchId}',
      'v1/sync/batches/{batchId:int}',
      'v1/sync/batches/latest',
      'v1/sync/batches/{batchId}.json',
    ]
      .map(parseRouteTemplate)
      .sort(comparePrecedence)
      .map((r) => r.template);
    expect(sorted[0]).toBe('v1/sync/batches/latest');
    expect(sorted.slice(1, 3).sort()).toEqual([
      'v1/sync/batches/{batchId:int}',
      'v1/sync/batches/{batchId}.json',
    ]);
    expect(sorted.slice(3)).toEqual(['v1/sync/batches/{batchId}', 'v1/sync/batches/{*rest}']);
  });
});

describe('binding expressions', () => {
  it('replaces %NAME% with app settings', () => {
    expect(resolveSettingExpressions('%Q%', { Q: 'sync' }, 'q')).toBe('sync');
    expect(resolveSettingExpressions('pre-%A%-%B%', { A: '1', B: '2' }, 'q')).toBe('pre-1-2');
    expect(resolveSettingExpressions('plain', {}, 'q')).toBe('plain');
  });

  it('names a missing setting', () => {
    expect(() => resolveSettingExpressions('%MISSING%', { OTHER: 'x' }, 'function "f" queueName')).toThrow(
      /function "f" queueName .*"MISSING"/,
    );
    expect(() => resolveSettingExpressions('%EMPTY%', { EMPTY: '' }, 'q')).toThrow(/"EMPTY"/);
  });
});
