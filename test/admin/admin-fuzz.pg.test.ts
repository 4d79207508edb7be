import { describe } from 'vitest';
import { pgTestDb } from '../helpers/db.js';
import { defineAdminFuzzSuite } from './admin-fuzz-suite.js';

describe('admin API fuzz on PostgreSQL, driven by /admin/v1/openapi.json', () => defineAdminFuzzSuite(pgTestDb));
