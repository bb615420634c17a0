import { describe, expect, it } from 'vitest';
import { EVENT_TYPES as CLIENT_EVENT_TYPES } from '../../client/src/client.js';
import {
  CONFLICT_STATUSES as CONSOLE_CONFLICT_STATUSES,
  EVENT_TYPES as CONSOLE_EVENT_TYPES,
} from '../../shared/console/web/types.js';
import { CONFLICT_STATUSES } from '../../shared/contracts/conflicts.js';
import { EVENT_TYPES } from '../../shared/contracts/events.js';

// The client package and the console's browser code cannot import the server's contracts (the client ships
// on its own; the console compiles without zod), so they keep copies of a few lists. These checks are what
// keeps each copy equal to the contract it mirrors: a type added on the server fails here until copied.
describe('lists copied from the contracts', () => {
  it('the client knows exactly the event types of the push contract', () => {
    // Prepare / act
    const server = [...EVENT_TYPES].sort();
    // Assess
    expect([...CLIENT_EVENT_TYPES].sort()).toEqual(server);
  });

  it('the console filters by exactly the event types and lists exactly the conflict statuses of the API', () => {
    expect([...CONSOLE_EVENT_TYPES].sort()).toEqual([...EVENT_TYPES].sort());
    expect([...CONSOLE_CONFLICT_STATUSES].sort()).toEqual([...CONFLICT_STATUSES].sort());
  });
});
