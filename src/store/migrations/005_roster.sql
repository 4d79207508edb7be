-- The school's roster (docs/roster.md): per school, the people the school's
-- administration system sends. Nothing of a person is in clear: the
-- attributes (pupil key, names, birth date, groups, logins) are one AES-256-GCM
-- box under a per-school key, and a person is found by keyed hashes only
-- (HMAC-SHA256 under another per-school key) of the pupil key and of each
-- upstream login identifier.

CREATE TABLE roster_people (
  school_id   text NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  -- HMAC(k_roster_lookup, "key\0" || pupil key): delta removes, erasure, access requests.
  key_hash    bytea NOT NULL,
  -- version || nonce || AES-256-GCM(person as JSON) || tag; bound to school and key_hash.
  sealed      bytea NOT NULL,
  updated_at  timestamptz NOT NULL,
  -- Removed from the roster: no longer logs in; the row is deleted after the grace period.
  removed_at  timestamptz,
  PRIMARY KEY (school_id, key_hash)
);
-- The grace-period purge.
CREATE INDEX roster_people_removed ON roster_people (removed_at) WHERE removed_at IS NOT NULL;

-- One row per login identifier of an active person, twice: exact and lower-cased
-- (HMAC(k_roster_lookup, "login\0" || v) and HMAC(k_roster_lookup, "login-ci\0" || lower(v))).
CREATE TABLE roster_logins (
  school_id   text NOT NULL,
  login_hash  bytea NOT NULL,
  key_hash    bytea NOT NULL,
  PRIMARY KEY (school_id, login_hash),
  FOREIGN KEY (school_id, key_hash) REFERENCES roster_people (school_id, key_hash) ON DELETE CASCADE
);
CREATE INDEX roster_logins_person ON roster_logins (school_id, key_hash);

-- Roster imports: progress and outcome, readable from every process. Problems
-- name files, lines, indexes and fields, never a value.
CREATE TABLE roster_imports (
  id            uuid PRIMARY KEY,
  school_id     text NOT NULL REFERENCES schools (id) ON DELETE CASCADE,
  actor         text NOT NULL,
  kind          text NOT NULL CHECK (kind IN ('full', 'delta')),
  format        text NOT NULL CHECK (format IN ('json', 'edexml', 'oneroster')),
  state         text NOT NULL CHECK (state IN ('validating', 'writing', 'done', 'refused', 'failed')),
  reason        text,
  total         integer,
  processed     integer NOT NULL DEFAULT 0,
  counts        jsonb,
  problems      jsonb,
  problem_count integer NOT NULL DEFAULT 0,
  started_at    timestamptz NOT NULL,
  heartbeat_at  timestamptz NOT NULL,
  finished_at   timestamptz
);
-- One running import per school.
CREATE UNIQUE INDEX roster_imports_running ON roster_imports (school_id) WHERE state IN ('validating', 'writing');
CREATE INDEX roster_imports_school ON roster_imports (school_id, started_at DESC);

-- Logins through an upstream provider whose person is not on the roster, per
-- school and school day: a count only, never the identifier.
CREATE TABLE roster_unmatched (
  school_id text NOT NULL,
  day       date NOT NULL,
  count     integer NOT NULL CHECK (count > 0),
  PRIMARY KEY (school_id, day)
);
