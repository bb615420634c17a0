import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';

/**
 * A new Ajv for JSON Schema draft 2020-12 with the standard formats (date, date-time, email, uri…).
 * `strict: false`: a collection's schema may carry keywords Ajv does not know (annotations like `x-unit`);
 * they are ignored rather than refused. `allErrors`: a device gets every wrong field of a record at once.
 */
export function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  // ajv-formats is CommonJS; its plugin is also its own `.default`, which types and runtime agree on.
  formats.default(ajv);
  return ajv;
}
