import { describe } from 'vitest';
import { pgliteTestDb } from '../helpers/db.js';
import { defineStudentRefSuite } from './student-ref-suite.js';

describe('the student ref from the root, on PGlite', () => defineStudentRefSuite(pgliteTestDb));
