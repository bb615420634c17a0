/**
 * Azure Functions route templates (ASP.NET Core routing syntax): literal segments matched
 * case-insensitively, `{name}`, optional `{name?}`, defaults `{name=value}`, catch-all `{*name}` /
 * `{**name}`, inline constraints `{id:int}`, `{id:int:min(1)}`, and ASP.NET's inbound precedence
 * (literal 1, complex or constrained parameter 2, parameter 3, constrained catch-all 4, catch-all 5).
 */

type Constraint = (value: string) => boolean;

interface LiteralPart {
  kind: 'literal';
  text: string;
}

interface ParameterPart {
  kind: 'parameter';
  name: string;
  optional: boolean;
  catchAll: boolean;
  defaultValue: string | undefined;
  constraints: Constraint[];
}

type Part = LiteralPart | ParameterPart;

interface Segment {
  parts: Part[];
  /** For a multi-part segment: anchored, case-insensitive pattern with one group per parameter. */
  pattern: RegExp | undefined;
}

export interface RouteTemplate {
  template: string;
  segments: Segment[];
  precedence: number[];
}

export class RouteTemplateError extends Error {
  override name = 'RouteTemplateError';
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const GUID =
  /^(?:[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\{[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\}|\([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\))$/i;
const INTEGER = /^[+-]?\d+$/;
const FLOATING = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)$/;

function toBigInt(value: string): bigint | undefined {
  return INTEGER.test(value) ? BigInt(value) : undefined;
}

function numberArgs(name: string, args: string | undefined, count: number[]): bigint[] {
  const values = (args ?? '').split(',').map((a) => a.trim());
  const parsed = values.map(toBigInt);
  if (!count.includes(values.length) || parsed.some((v) => v === undefined)) {
    throw new RouteTemplateError(
      `route constraint "${name}" needs ${count.join(' or ')} integer argument(s)`,
    );
  }
  return parsed as bigint[];
}

function buildConstraint(name: string, args: string | undefined): Constraint {
  switch (name.toLowerCase()) {
    case 'int':
      return (v) => INTEGER.test(v) && Number(v) >= INT32_MIN && Number(v) <= INT32_MAX;
    case 'long':
      return (v) => {
        const n = toBigInt(v);
        return n !== undefined && n >= -(2n ** 63n) && n < 2n ** 63n;
      };
    case 'bool':
      return (v) => /^(?:true|false)$/i.test(v);
    case 'guid':
      return (v) => GUID.test(v);
    case 'alpha':
      return (v) => /^[a-z]+$/i.test(v);
    case 'double':
    case 'float':
      return (v) => FLOATING.test(v);
    case 'decimal':
      return (v) => DECIMAL.test(v);
    case 'datetime':
      return (v) => !Number.isNaN(Date.parse(v));
    case 'min': {
      const [min = 0n] = numberArgs(name, args, [1]);
      return (v) => (toBigInt(v) ?? min - 1n) >= min;
    }
    case 'max': {
      const [max = 0n] = numberArgs(name, args, [1]);
      return (v) => (toBigInt(v) ?? max + 1n) <= max;
    }
    case 'range': {
      const [min = 0n, max = 0n] = numberArgs(name, args, [2]);
      return (v) => {
        const n = toBigInt(v);
        return n !== undefined && n >= min && n <= max;
      };
    }
    case 'minlength': {
      const [min = 0n] = numberArgs(name, args, [1]);
      return (v) => BigInt(v.length) >= min;
    }
    case 'maxlength': {
      const [max = 0n] = numberArgs(name, args, [1]);
      return (v) => BigInt(v.length) <= max;
    }
    case 'length': {
      const bounds = numberArgs(name, args, [1, 2]);
      const min = bounds[0] ?? 0n;
      const max = bounds[1] ?? min;
      return (v) => BigInt(v.length) >= min && BigInt(v.length) <= max;
    }
    case 'regex': {
      if (!args) throw new RouteTemplateError('route constraint "regex" needs a pattern');
      // ASP.NET: case-insensitive and not implicitly anchored.
      const pattern = new RegExp(args, 'i');
      return (v) => pattern.test(v);
    }
    default:
      throw new RouteTemplateError(`unknown route constraint "${name}"`);
  }
}

/** Parses the text between `{` and `}` (braces already removed, `}}` already unescaped). */
function parseParameter(body: string, template: string): ParameterPart {
  let rest = body;
  let catchAll = false;
  if (rest.startsWith('**')) {
    catchAll = true;
    rest = rest.slice(2);
  } else if (rest.startsWith('*')) {
    catchAll = true;
    rest = rest.slice(1);
  }
  const nameMatch = /^[^:=?]+/.exec(rest);
  const name = nameMatch?.[0].trim() ?? '';
  if (!name) throw new RouteTemplateError(`route "${template}": parameter without a name`);
  rest = rest.slice(nameMatch?.[0].length ?? 0);
  const constraints: Constraint[] = [];
  while (rest.startsWith(':')) {
    const constraintName = /^:([a-zA-Z]+)/.exec(rest);
    if (!constraintName?.[1])
      throw new RouteTemplateError(`route "${template}": bad constraint in {${body}}`);
    rest = rest.slice(constraintName[0].length);
    let args: string | undefined;
    if (rest.startsWith('(')) {
      let depth = 0;
      let end = -1;
      for (let i = 0; i < rest.length; i++) {
        if (rest[i] === '\\') {
          i++;
        } else if (rest[i] === '(') {
          depth++;
        } else if (rest[i] === ')') {
          depth--;
          if (depth === 0) {
            end = i;
            break;
          }
        }
      }
      if (end < 0) throw new RouteTemplateError(`route "${template}": unclosed "(" in {${body}}`);
      args = rest.slice(1, end);
      rest = rest.slice(end + 1);
    }
    constraints.push(buildConstraint(constraintName[1], args));
  }
  let optional = false;
  let defaultValue: string | undefined;
  if (rest === '?') {
    optional = true;
  } else if (rest.startsWith('=')) {
    defaultValue = rest.slice(1);
  } else if (rest !== '') {
    throw new RouteTemplateError(`route "${template}": cannot parse {${body}}`);
  }
  if (catchAll && optional)
    throw new RouteTemplateError(`route "${template}": a catch-all cannot be optional`);
  return { kind: 'parameter', name, optional, catchAll, defaultValue, constraints };
}

function parseSegment(text: string, template: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch === '{' && text[i + 1] === '{') {
      literal += '{';
      i += 2;
    } else if (ch === '}' && text[i + 1] === '}') {
      literal += '}';
      i += 2;
    } else if (ch === '{') {
      let body = '';
      let j = i + 1;
      let closed = false;
      while (j < text.length) {
        const pair = text.slice(j, j + 2);
        if (pair === '}}' || pair === '{{') {
          body += pair[0];
          j += 2;
        } else if (text[j] === '}') {
          closed = true;
          break;
        } else {
          body += text[j];
          j++;
        }
      }
      if (!closed) throw new RouteTemplateError(`route "${template}": unclosed "{"`);
      if (literal) parts.push({ kind: 'literal', text: literal });
      literal = '';
      parts.push(parseParameter(body, template));
      i = j + 1;
    } else if (ch === '}') {
      throw new RouteTemplateError(`route "${template}": unmatched "}"`);
    } else {
      literal += ch;
      i++;
    }
  }
  if (literal) parts.push({ kind: 'literal', text: literal });
  return parts;
}

/** Splits on '/' outside `{...}` (a regex constraint may contain '/'). */
function splitTemplate(template: string): string[] {
  const segments: string[] = [];
  let current = '';
  let depth = 0;
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    const pair = template.slice(i, i + 2);
    if (pair === '{{' || (pair === '}}' && depth > 0)) {
      current += pair;
      i++;
    } else if (ch === '{') {
      depth++;
      current += ch;
    } else if (ch === '}' && depth > 0) {
      depth--;
      current += ch;
    } else if (ch === '/' && depth === 0) {
      segments.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  segments.push(current);
  return segments;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function precedenceDigit(segment: Segment): number {
  const [first] = segment.parts;
  if (segment.parts.length > 1) return 2;
  if (!first || first.kind === 'literal') return 1;
  const digit = first.catchAll ? 5 : 3;
  return first.constraints.length > 0 ? digit - 1 : digit;
}

export function parseRouteTemplate(template: string): RouteTemplate {
  const trimmed = template.replace(/^~?\/+/, '').replace(/\/+$/, '');
  const texts = trimmed === '' ? [] : splitTemplate(trimmed);
  const names = new Set<string>();
  const segments = texts.map((text, index): Segment => {
    if (text === '') throw new RouteTemplateError(`route "${template}": empty segment`);
    const parts = parseSegment(text, template);
    for (const part of parts) {
      if (part.kind !== 'parameter') continue;
      const key = part.name.toLowerCase();
      if (names.has(key))
        throw new RouteTemplateError(`route "${template}": parameter "${part.name}" repeats`);
      names.add(key);
      if (part.catchAll && (parts.length > 1 || index !== texts.length - 1)) {
        throw new RouteTemplateError(`route "${template}": a catch-all must be the whole last segment`);
      }
    }
    for (let p = 1; p < parts.length; p++) {
      if (parts[p]?.kind === 'parameter' && parts[p - 1]?.kind === 'parameter') {
        throw new RouteTemplateError(`route "${template}": two parameters need a literal between them`);
      }
    }
    const pattern =
      parts.length > 1
        ? new RegExp(
            `^${parts.map((p) => (p.kind === 'literal' ? escapeRegExp(p.text) : p.optional ? '(.*?)' : '(.+?)')).join('')}$`,
            'i',
          )
        : undefined;
    return { parts, pattern };
  });
  // An optional parameter may only be followed by segments that can be left out as well.
  let restOmissible = true;
  for (let i = segments.length - 1; i >= 0; i--) {
    const only = soleParameter(segments[i]);
    if (only?.optional && !restOmissible) {
      throw new RouteTemplateError(`route "${template}": an optional parameter must be at the end`);
    }
    if (!isOmissible(segments[i])) restOmissible = false;
  }
  return { template, segments, precedence: segments.map(precedenceDigit) };
}

function soleParameter(segment: Segment | undefined): ParameterPart | undefined {
  const only = segment?.parts.length === 1 ? segment.parts[0] : undefined;
  return only?.kind === 'parameter' ? only : undefined;
}

function isOmissible(segment: Segment | undefined): boolean {
  const only = soleParameter(segment);
  return only !== undefined && (only.optional || only.catchAll || only.defaultValue !== undefined);
}

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function accept(part: ParameterPart, value: string, params: Record<string, string>): boolean {
  if (!part.constraints.every((c) => c(value))) return false;
  params[part.name] = value;
  return true;
}

/**
 * Matches raw (still percent-encoded) path segments below the route prefix. Returns the route parameters,
 * or undefined when the template does not match.
 */
export function matchRoute(
  route: RouteTemplate,
  pathSegments: readonly string[],
): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < route.segments.length; i++) {
    const segment = route.segments[i];
    if (!segment) return undefined;
    const only = segment.parts.length === 1 ? segment.parts[0] : undefined;
    if (only?.kind === 'parameter' && only.catchAll) {
      const rest = pathSegments.slice(i).map(decodeSegment).join('/');
      const value = rest === '' ? only.defaultValue : rest;
      if (value !== undefined && !accept(only, value, params)) return undefined;
      return params;
    }
    const raw = pathSegments[i];
    if (raw === undefined) {
      if (only?.kind !== 'parameter') return undefined;
      if (only.defaultValue !== undefined) {
        if (!accept(only, only.defaultValue, params)) return undefined;
      } else if (!only.optional) {
        return undefined;
      }
      continue;
    }
    const text = decodeSegment(raw);
    if (only?.kind === 'literal') {
      if (text.toLowerCase() !== only.text.toLowerCase()) return undefined;
    } else if (only?.kind === 'parameter') {
      if (text === '' || !accept(only, text, params)) return undefined;
    } else {
      const found = segment.pattern?.exec(text);
      if (!found) return undefined;
      let group = 1;
      for (const part of segment.parts) {
        if (part.kind !== 'parameter') continue;
        const value = found[group++] ?? '';
        if (value === '' && part.optional) continue;
        if (!accept(part, value, params)) return undefined;
      }
    }
  }
  return pathSegments.length > route.segments.length ? undefined : params;
}

/** Negative when a should be tried before b (ASP.NET inbound precedence, lower first). */
export function comparePrecedence(a: RouteTemplate, b: RouteTemplate): number {
  const length = Math.max(a.precedence.length, b.precedence.length);
  for (let i = 0; i < length; i++) {
    const diff = (a.precedence[i] ?? 0) - (b.precedence[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** Splits a URL path (no query) into raw segments; a single trailing slash is ignored. */
export function splitPath(pathname: string): string[] {
  const segments = pathname.split('/').slice(1);
  if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
  if (segments.length === 1 && segments[0] === '') return [];
  return segments;
}
