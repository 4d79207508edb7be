import { describe } from 'vitest';
import { pgliteTestDb } from '../helpers/db.js';
import { defineAdminFuzzSuite } from './admin-fuzz-suite.js';

describe('admin API fuzz on PGlite, driven by /admin/v1/openapi.json', () => defineAdminFuzzSuite(pgliteTestDb));
