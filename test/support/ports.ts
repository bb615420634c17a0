export { freePort } from '../../local/ports.js';
