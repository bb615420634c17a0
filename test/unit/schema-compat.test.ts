import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CollectionDefinition } from '../../shared/contracts/schema.js';
import { incompatibilities } from '../../shared/schema/compat.js';
import { checkDefinition } from '../../shared/schema/definition.js';
import { compileCollection } from '../../shared/schema/validator.js';

// SPEC v1.1 "Collections": a schema change is backward compatible or refused with what is incompatible
// (docs/collections.md). Each refused change and each allowed one, against one base definition.
const base = (): CollectionDefinition => ({
  scope: 'clinicId',
  conflict: { strategy: 'LWW' },
  schema: {
    type: 'object',
    title: 'Encounter',
    properties: {
      clinicId: { type: 'string' },
      patientId: { type: 'string', minLength: 1, maxLength: 128 },
      diagnosis: { type: 'string', maxLength: 2000 },
      severity: { type: 'string', enum: ['LOW', 'HIGH'] },
      weightKg: { type: 'number', minimum: 0, maximum: 500 },
      visits: { type: 'integer' },
      code: { type: 'string', pattern: '^[A-Z]{3}$' },
      seenAt: { type: 'string', format: 'date-time' },
      location: {
        type: 'object',
        properties: { x: { type: 'number' }, y: { type: 'number' } },
        required: ['x'],
      },
    },
    required: ['clinicId', 'patientId'],
  },
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- edits reach into the nested test schema
type Loose = CollectionDefinition & { schema: Record<string, any> };
type Edit = (d: Loose) => unknown;
const changed = (edit: Edit): CollectionDefinition => {
  const d = structuredClone(base()) as Loose;
  edit(d);
  return d;
};

const refused: [string, Edit, string][] = [
  ['a property removed', (d) => delete d.schema.properties.diagnosis, 'schema.properties.diagnosis'],
  ['a type changed', (d) => (d.schema.properties.visits.type = 'string'), 'schema.properties.visits.type'],
  [
    'a type narrowed (number → integer)',
    (d) => (d.schema.properties.weightKg.type = 'integer'),
    'schema.properties.weightKg.type',
  ],
  [
    'a type list narrowed',
    (d) => (d.schema.properties.location.type = 'string'),
    'schema.properties.location.type',
  ],
  [
    'a nested property removed',
    (d) => delete d.schema.properties.location.properties.y,
    'schema.properties.location.properties.y',
  ],
  [
    'a new property required without a default',
    (d) => {
      d.schema.properties.clinician = { type: 'string' };
      d.schema.required.push('clinician');
    },
    'schema.required',
  ],
  [
    'an existing optional property made required',
    (d) => d.schema.required.push('diagnosis'),
    'schema.required',
  ],
  [
    'an optional nested property made required',
    (d) => d.schema.properties.location.required.push('y'),
    'schema.properties.location.required',
  ],
  [
    'enum values removed',
    (d) => (d.schema.properties.severity.enum = ['LOW']),
    'schema.properties.severity.enum',
  ],
  [
    'an enum added where any value was allowed',
    (d) => (d.schema.properties.diagnosis.enum = ['flu']),
    'schema.properties.diagnosis.enum',
  ],
  ['minimum raised', (d) => (d.schema.properties.weightKg.minimum = 1), 'schema.properties.weightKg.minimum'],
  [
    'maximum lowered',
    (d) => (d.schema.properties.weightKg.maximum = 300),
    'schema.properties.weightKg.maximum',
  ],
  [
    'minLength raised',
    (d) => (d.schema.properties.patientId.minLength = 2),
    'schema.properties.patientId.minLength',
  ],
  [
    'maxLength lowered',
    (d) => (d.schema.properties.diagnosis.maxLength = 100),
    'schema.properties.diagnosis.maxLength',
  ],
  ['a bound added', (d) => (d.schema.properties.visits.minimum = 0), 'schema.properties.visits.minimum'],
  [
    'pattern changed',
    (d) => (d.schema.properties.code.pattern = '^[A-Z]{3,4}$'),
    'schema.properties.code.pattern',
  ],
  [
    'pattern added',
    (d) => (d.schema.properties.diagnosis.pattern = '^.+$'),
    'schema.properties.diagnosis.pattern',
  ],
  ['format changed', (d) => (d.schema.properties.seenAt.format = 'date'), 'schema.properties.seenAt.format'],
  ['scope field changed', (d) => (d.scope = 'patientId'), 'scope'],
  ['scope field removed', (d) => delete d.scope, 'scope'],
  [
    'additionalProperties made false',
    (d) => (d.schema.additionalProperties = false),
    'schema.additionalProperties',
  ],
  [
    'additionalProperties given a schema',
    (d) => (d.schema.additionalProperties = { type: 'string' }),
    'schema.additionalProperties',
  ],
  [
    'a keyword the rules cannot reason about changed',
    (d) => (d.schema.properties.visits.not = { const: 0 }),
    'schema.properties.visits.not',
  ],
];

const allowed: [string, Edit][] = [
  ['a new optional property', (d) => (d.schema.properties.clinician = { type: 'string' })],
  [
    'a new required property with a default',
    (d) => {
      d.schema.properties.status = { type: 'string', default: 'OPEN' };
      d.schema.required.push('status');
    },
  ],
  ['a required property made optional', (d) => (d.schema.required = ['clinicId'])],
  ['an enum widened', (d) => (d.schema.properties.severity.enum = ['LOW', 'HIGH', 'CRITICAL'])],
  ['an enum removed', (d) => delete d.schema.properties.severity.enum],
  ['a type widened (integer → number)', (d) => (d.schema.properties.visits.type = 'number')],
  ['a type widened to a list with null', (d) => (d.schema.properties.diagnosis.type = ['string', 'null'])],
  ['minimum lowered', (d) => (d.schema.properties.weightKg.minimum = -1)],
  ['maximum raised', (d) => (d.schema.properties.weightKg.maximum = 1000)],
  ['maxLength raised', (d) => (d.schema.properties.diagnosis.maxLength = 4000)],
  ['minLength removed', (d) => delete d.schema.properties.patientId.minLength],
  ['pattern removed', (d) => delete d.schema.properties.code.pattern],
  ['format removed', (d) => delete d.schema.properties.seenAt.format],
  [
    'description and title changed',
    (d) => {
      d.schema.title = 'Visit';
      d.schema.properties.diagnosis.description = 'What the clinician found';
    },
  ],
  ['a default changed', (d) => (d.schema.properties.severity.default = 'LOW')],
  [
    'the conflict strategy changed',
    (d) => (d.conflict = { strategy: 'MANUAL', fields: { diagnosis: 'LWW' } }),
  ],
];

describe('schema compatibility (SPEC v1.1 "Collections", docs/collections.md)', () => {
  it.each(refused)('refuses %s, naming %s', (_what, edit, path) => {
    const next = changed(edit);
    expect(checkDefinition(next)).toEqual([]);
    const errors = incompatibilities(base(), next);
    expect(errors.map((e) => e.path)).toContain(path);
    for (const e of errors) expect(e.message.length).toBeGreaterThan(10);
  });

  it.each(allowed)('allows %s', (_what, edit) => {
    const next = changed(edit);
    expect(checkDefinition(next)).toEqual([]);
    expect(incompatibilities(base(), next)).toEqual([]);
  });

  it('allows additionalProperties loosened (false → schema → true), refuses it tightened back', () => {
    const closed = changed((d) => (d.schema.additionalProperties = false));
    const typed = changed((d) => (d.schema.additionalProperties = { type: 'string' }));
    expect(incompatibilities(closed, typed)).toEqual([]);
    expect(incompatibilities(typed, base())).toEqual([]);
    expect(incompatibilities(typed, closed).map((e) => e.path)).toEqual(['schema.additionalProperties']);
  });

  it('lists every incompatibility of one change, not just the first', () => {
    const next = changed((d) => {
      delete d.schema.properties.diagnosis;
      d.schema.properties.visits.type = 'string';
      d.scope = 'patientId';
    });
    expect(
      incompatibilities(base(), next)
        .map((e) => e.path)
        .sort(),
    ).toEqual(['schema.properties.diagnosis', 'schema.properties.visits.type', 'scope'].sort());
  });

  it('the same definition is compatible with itself', () => {
    expect(incompatibilities(base(), base())).toEqual([]);
  });

  // What "compatible" is for: a record valid before stays valid after. For random allowed widenings of a
  // bounded number property, every value the old schema accepted the new one accepts.
  it('property: an accepted change of bounds keeps every value valid before valid after', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -50, max: 50 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: -50, max: 50 }),
        fc.integer({ min: 0, max: 100 }),
        fc.double({ min: -200, max: 200, noNaN: true }),
        (min1, span1, min2, span2, value) => {
          const def = (min: number, max: number): CollectionDefinition => ({
            schema: { type: 'object', properties: { v: { type: 'number', minimum: min, maximum: max } } },
          });
          const before = def(min1, min1 + span1);
          const after = def(min2, min2 + span2);
          if (incompatibilities(before, after).length > 0) return;
          const ok = (d: CollectionDefinition) =>
            compileCollection(d).validateData({ v: value }).length === 0;
          if (ok(before)) expect(ok(after)).toBe(true);
        },
      ),
    );
  });
});

describe('collection definition check', () => {
  const def = (schema: Record<string, unknown>, extra: Partial<CollectionDefinition> = {}) => ({
    schema,
    ...extra,
  });
  it('accepts the base definition', () => expect(checkDefinition(base())).toEqual([]));
  it.each([
    ['not an object schema', def({ type: 'array', items: {} }), 'schema.type'],
    ['no properties', def({ type: 'object' }), 'schema.properties'],
    [
      'invalid JSON Schema',
      def({ type: 'object', properties: { a: { type: 'strin' } } }),
      'schema.properties.a.type',
    ],
    [
      'a scope that is not declared',
      def({ type: 'object', properties: { a: { type: 'string' } } }, { scope: 'b' }),
      'scope',
    ],
    [
      'a scope of another type',
      def({ type: 'object', properties: { a: { type: 'number' } } }, { scope: 'a' }),
      'scope',
    ],
    [
      'a per-field strategy of an undeclared field',
      def(
        { type: 'object', properties: { a: { type: 'string' } } },
        { conflict: { strategy: 'LWW', fields: { b: 'MANUAL' } } },
      ),
      'conflict.fields.b',
    ],
    [
      'an external $ref',
      def({ type: 'object', properties: { a: { $ref: 'https://example.com/s.json' } } }),
      'schema',
    ],
    [
      'a required field not declared',
      def({ type: 'object', properties: { a: { type: 'string' } }, required: ['b'] }),
      'schema.required',
    ],
    [
      'another JSON Schema dialect',
      def({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { a: {} } }),
      'schema.$schema',
    ],
    [
      'a $ref that resolves to nothing',
      def({ type: 'object', properties: { a: { $ref: '#/$defs/none' } } }),
      'schema',
    ],
    [
      'a pattern that is no regular expression',
      def({ type: 'object', properties: { a: { pattern: '(' } } }),
      'schema',
    ],
    [
      'a format the server does not check',
      def({ type: 'object', properties: { a: { format: 'colour' } } }),
      'schema',
    ],
  ])('refuses %s', (_what, definition, path) => {
    expect(checkDefinition(definition as CollectionDefinition).map((e) => e.path)).toContain(path);
  });
  it('accepts an integer scope field', () => {
    expect(
      checkDefinition(def({ type: 'object', properties: { site: { type: 'integer' } } }, { scope: 'site' })),
    ).toEqual([]);
  });
});
