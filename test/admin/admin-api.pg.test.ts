import { describe } from 'vitest';
import { pgTestDb } from '../helpers/db.js';
import { defineAdminApiSuite } from './admin-api-suite.js';

describe('admin API on PostgreSQL', () => defineAdminApiSuite(pgTestDb));
