import pg from 'pg';

// DATE stays 'YYYY-MM-DD' (the default would shift it through the local time zone); BIGINT counts
// become numbers (they stay far below 2^53 here).
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value);
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export const iso = (value: Date | null): string | null => (value ? value.toISOString() : null);
export const isoRequired = (value: Date): string => value.toISOString();

export const isUniqueViolation = (error: unknown, constraint?: string): boolean =>
  (error as { code?: string }).code === '23505' &&
  (constraint === undefined || (error as { constraint?: string }).constraint === constraint);

export const isForeignKeyViolation = (error: unknown): boolean =>
  (error as { code?: string }).code === '23503';
