import { inject } from 'vitest';
import { installFunctionsCoreShim } from '../../local/host.js';

// Every test process points at the run's own stack. The outer environment's service settings are dropped
// first, so nothing a developer has exported can lead a test to another database.
for (const name of Object.keys(process.env)) {
  if (/^(POSTGRES_|Cosmos|COSMOS_|Storage|ServiceBus|AUTH_|QUEUE_|WEBSITE_)/.test(name))
    delete process.env[name];
}
Object.assign(process.env, inject('settings'));

// Function files register themselves on import; give those registrations the local host's core API so
// @azure/functions does not fall into its "test mode" (handlers are called directly either way).
installFunctionsCoreShim();
