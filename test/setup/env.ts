import { inject } from 'vitest';
import { installFunctionsCoreShim } from '../../local/host.js';
import { appSettingNames } from '../support/env.js';

// Every test process points at the run's own stack. Every app setting of the outer environment (each key of
// the config schema, e.g. an exported LOCAL_QUEUE_URL or POSTGRES_URL) is dropped first, so nothing a
// developer has exported can lead a test to another database or queue.
for (const name of appSettingNames(process.env)) delete process.env[name];
Object.assign(process.env, inject('settings'));

// Function files register themselves on import; give those registrations the local host's core API so
// @azure/functions does not fall into its "test mode" (handlers are called directly either way).
installFunctionsCoreShim();
