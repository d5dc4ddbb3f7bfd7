-- Schema 3 to 4: a book that costs what an action touches, and what the front desk keeps.
--
-- * sites: the clinic settings, the book's state and a version that every change raises
--   (readers compare it instead of reading the book again). A SQLite file holds one site.
-- * courses: each course's document with what listing and grouping need beside it, so
--   that neither parses a document.
-- * sessions: every session of every course as it stands, with its chair, its local day
--   and its place in the course: the day sheet, usage and the chair time of the courses
--   an action does not touch are read from here, by day and by chair.
-- * events: the clinic-wide closures and outages (they were inside the state).
-- * patients, users, audit, waiting: the front desk's.
--
-- The tables of schema 3 are renamed aside here; tms_schedule then moves their rows into
-- the new tables (working out each course's sessions) and drops them, in the same
-- transaction.
ALTER TABLE settings RENAME TO old_settings;
ALTER TABLE courses RENAME TO old_courses;
ALTER TABLE seats RENAME TO old_seats;
ALTER TABLE offers RENAME TO old_offers;
ALTER TABLE feeds RENAME TO old_feeds;
DROP TRIGGER one_session_per_chair;
DROP INDEX seats_by_chair;

CREATE TABLE sites (
    site TEXT PRIMARY KEY,
    settings BLOB NOT NULL,        -- the clinic file the book was made from, as it was
    settings_name TEXT NOT NULL,   -- its file name, for messages
    state TEXT NOT NULL,           -- JSON: the calendar, chairs, limits and outages now
    version INTEGER NOT NULL       -- raised by every change
);

CREATE TABLE courses (
    site TEXT NOT NULL REFERENCES sites (site),
    course_id TEXT NOT NULL,
    booked_order INTEGER NOT NULL, -- 1, 2, ... in the order courses came into the book
    document TEXT NOT NULL,        -- the course file's JSON, checksum included
    own_calendar INTEGER NOT NULL, -- 1: planned under the calendar in its document; 0: the site's
    protocol TEXT NOT NULL,
    protocol_name TEXT NOT NULL,
    follows TEXT,                  -- the course it follows (maintenance, rescue, ...)
    plan_start TEXT NOT NULL,      -- the plan's start date
    first_day TEXT NOT NULL,       -- the local date of its first session
    last_day TEXT NOT NULL,        -- and of its last one
    progress TEXT NOT NULL,        -- "36 sessions: 3 delivered, 33 to come"
    stamp INTEGER NOT NULL,        -- the site's version when it last changed
    PRIMARY KEY (site, course_id)
);
CREATE INDEX courses_in_order ON courses (site, booked_order);

CREATE TABLE sessions (
    site TEXT NOT NULL,
    course_id TEXT NOT NULL,
    number INTEGER NOT NULL,       -- the session's number in its course
    phase TEXT NOT NULL,
    phase_number INTEGER NOT NULL,
    day TEXT NOT NULL,             -- its local date, YYYY-MM-DD
    starts INTEGER NOT NULL,       -- minutes since 1970-01-01 00:00 UTC
    ends INTEGER NOT NULL,
    status TEXT NOT NULL,          -- scheduled, attended, missed, cancelled
    chair TEXT,                    -- NULL: it holds no chair
    place INTEGER,                 -- 12 in "12 of 36"; NULL when it does not count
    target INTEGER NOT NULL,       -- 36 in "12 of 36"
    block INTEGER NOT NULL,        -- 1: its day holds the chair from the first session to the last
    cpt TEXT,
    milestones TEXT NOT NULL,      -- JSON list of what is due at it
    stamp INTEGER NOT NULL,        -- the site's version when it last changed
    PRIMARY KEY (site, course_id, number),
    FOREIGN KEY (site, course_id) REFERENCES courses (site, course_id)
);
CREATE INDEX sessions_by_day ON sessions (site, day);
CREATE INDEX sessions_by_chair ON sessions (site, chair, starts);

-- Never two sessions on one chair at once, whoever writes (no session lasts a day: the
-- search looks back one day only). The book keeps the chairs' turnover; this is the
-- database's own last word.
CREATE TRIGGER one_session_per_chair BEFORE INSERT ON sessions
WHEN NEW.chair IS NOT NULL AND NEW.status IN ('scheduled', 'attended') AND EXISTS (
    SELECT 1 FROM sessions
    WHERE site = NEW.site AND chair = NEW.chair AND course_id != NEW.course_id
      AND status IN ('scheduled', 'attended')
      AND starts > NEW.starts - 1440 AND starts < NEW.ends AND NEW.starts < ends)
BEGIN SELECT RAISE(ABORT, 'two sessions on one chair at once'); END;

CREATE TRIGGER one_session_per_chair_on_update BEFORE UPDATE ON sessions
WHEN NEW.chair IS NOT NULL AND NEW.status IN ('scheduled', 'attended') AND EXISTS (
    SELECT 1 FROM sessions
    WHERE site = NEW.site AND chair = NEW.chair AND course_id != NEW.course_id
      AND status IN ('scheduled', 'attended')
      AND starts > NEW.starts - 1440 AND starts < NEW.ends AND NEW.starts < ends)
BEGIN SELECT RAISE(ABORT, 'two sessions on one chair at once'); END;

CREATE TABLE events (
    site TEXT NOT NULL REFERENCES sites (site),
    number INTEGER NOT NULL,
    kind TEXT NOT NULL,            -- closure, chair, outage
    first_day TEXT NOT NULL,
    last_day TEXT NOT NULL,
    reason TEXT NOT NULL,
    chair TEXT,
    hours TEXT,                    -- HH:MM-HH:MM, for an outage
    revisions TEXT NOT NULL,       -- JSON [[course_id, revision], ...]: what it re-planned
    undone INTEGER NOT NULL,
    extra_days TEXT NOT NULL,      -- JSON: the extra open days a closure took out
    PRIMARY KEY (site, number)
);

CREATE TABLE offers (
    site TEXT NOT NULL REFERENCES sites (site),
    key TEXT NOT NULL,
    document TEXT NOT NULL,
    made TEXT NOT NULL,            -- when, UTC
    PRIMARY KEY (site, key)
);

CREATE TABLE feeds (
    site TEXT NOT NULL REFERENCES sites (site),
    feed_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    cancelled TEXT,
    past_days INTEGER,
    PRIMARY KEY (site, feed_id)
);

-- The front desk's: never in calendar files, feeds, FHIR or exports.
CREATE TABLE patients (
    site TEXT NOT NULL,
    course_id TEXT NOT NULL,
    label TEXT NOT NULL,           -- what the clinic calls the patient: a name, initials, a chart number
    phone TEXT,
    email TEXT,
    PRIMARY KEY (site, course_id),
    FOREIGN KEY (site, course_id) REFERENCES courses (site, course_id)
);

CREATE TABLE users (
    site TEXT NOT NULL REFERENCES sites (site),
    name TEXT NOT NULL,
    role TEXT NOT NULL,            -- front-desk, technician, clinician, admin
    password_hash TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (site, name)
);

CREATE TABLE audit (
    site TEXT NOT NULL REFERENCES sites (site),
    number INTEGER NOT NULL,       -- 1, 2, ... per site
    version INTEGER NOT NULL,      -- the site's version the change made
    at TEXT NOT NULL,              -- when, UTC
    actor TEXT NOT NULL,           -- who: a user's name, or the computer's user on the command line
    action TEXT NOT NULL,
    course_id TEXT,
    session INTEGER,
    detail TEXT NOT NULL,
    PRIMARY KEY (site, number)
);
CREATE INDEX audit_by_course ON audit (site, course_id, number);

CREATE TABLE waiting (
    site TEXT NOT NULL REFERENCES sites (site),
    number INTEGER NOT NULL,
    label TEXT NOT NULL,
    phone TEXT,
    protocol TEXT NOT NULL,
    earliest TEXT NOT NULL,        -- the first day the patient can start
    at TEXT,                       -- HH:MM wanted, if any
    window_minutes INTEGER NOT NULL,
    note TEXT NOT NULL,
    created TEXT NOT NULL,
    state TEXT NOT NULL,           -- waiting, offered, booked, removed
    PRIMARY KEY (site, number)
);
