-- Schema 4 to 5: each course's document in a table of its own, and a session's row updated
-- where it is when what it holds of a chair stays as it was.
--
-- A course's document (every record and revision, several kilobytes) sat in the middle of
-- its row, so reading any column after it (its stamp, progress, first day: what listing,
-- grouping feeds and following changes read for every course) walked through the
-- document's pages. The rows of courses are now small; the documents are read only for
-- the courses an action holds. And an index finds the courses changed since a version (a
-- store kept open reads only those again).
--
-- SQLite drops a column by making the table again (tms_schedule runs this with foreign
-- keys off, and checks them all before the transaction commits).
CREATE TABLE documents (
    site TEXT NOT NULL,
    course_id TEXT NOT NULL,
    document TEXT NOT NULL,        -- the course file's JSON, checksum included
    PRIMARY KEY (site, course_id),
    FOREIGN KEY (site, course_id) REFERENCES courses (site, course_id)
);
INSERT INTO documents (site, course_id, document) SELECT site, course_id, document FROM courses;

CREATE TABLE new_courses (
    site TEXT NOT NULL REFERENCES sites (site),
    course_id TEXT NOT NULL,
    booked_order INTEGER NOT NULL, -- 1, 2, ... in the order courses came into the book
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
INSERT INTO new_courses (site, course_id, booked_order, own_calendar, protocol, protocol_name,
        follows, plan_start, first_day, last_day, progress, stamp)
    SELECT site, course_id, booked_order, own_calendar, protocol, protocol_name, follows,
        plan_start, first_day, last_day, progress, stamp FROM courses;
DROP TABLE courses;
ALTER TABLE new_courses RENAME TO courses;
CREATE INDEX courses_in_order ON courses (site, booked_order);
CREATE INDEX courses_by_stamp ON courses (site, stamp);

-- A session's row whose chair time stays as it was (its place in the course changed) is
-- updated where it is: the guard against two sessions on one chair looks at the columns
-- that say what it holds, and only when one of them changes.
DROP TRIGGER one_session_per_chair_on_update;
CREATE TRIGGER one_session_per_chair_on_update
BEFORE UPDATE OF site, course_id, day, starts, ends, status, chair ON sessions
WHEN NEW.chair IS NOT NULL AND NEW.status IN ('scheduled', 'attended') AND EXISTS (
    SELECT 1 FROM sessions
    WHERE site = NEW.site AND chair = NEW.chair AND course_id != NEW.course_id
      AND status IN ('scheduled', 'attended')
      AND starts > NEW.starts - 1440 AND starts < NEW.ends AND NEW.starts < ends)
BEGIN SELECT RAISE(ABORT, 'two sessions on one chair at once'); END;
