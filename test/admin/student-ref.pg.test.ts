import { describe } from 'vitest';
import { pgTestDb } from '../helpers/db.js';
import { defineStudentRefSuite } from './student-ref-suite.js';

describe('the student ref from the root, on PostgreSQL', () => defineStudentRefSuite(pgTestDb));
