export { freePort } from '../../support/net.js';
