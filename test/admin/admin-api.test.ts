import { describe } from 'vitest';
import { pgliteTestDb } from '../helpers/db.js';
import { defineAdminApiSuite } from './admin-api-suite.js';

describe('admin API on PGlite', () => defineAdminApiSuite(pgliteTestDb));
