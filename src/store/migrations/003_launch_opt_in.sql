-- School-started launch became a per-school switch, `allowLaunch`, off for new
-- schools (docs/login-journey.md). Schools registered before it keep the
-- launch they had.
UPDATE schools SET doc = doc || '{"allowLaunch": true}'::jsonb WHERE NOT (doc ? 'allowLaunch');
