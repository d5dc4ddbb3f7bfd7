-- Schema 4 to 5 on PostgreSQL: each course's document in a table of its own, as in a
-- SQLite book (see sqlite/5.sql), and an index that finds the courses changed since a
-- version (a store kept open reads only those again).
CREATE TABLE documents (
    site TEXT NOT NULL,
    course_id TEXT NOT NULL,
    document TEXT NOT NULL,        -- the course file's JSON, checksum included
    PRIMARY KEY (site, course_id),
    FOREIGN KEY (site, course_id) REFERENCES courses (site, course_id)
);
INSERT INTO documents (site, course_id, document) SELECT site, course_id, document FROM courses;
ALTER TABLE courses DROP COLUMN document;
CREATE INDEX courses_by_stamp ON courses (site, stamp);
-- A session's row whose chair time stays as it was (its place in the course changed) is
-- updated where it is; room left in each page lets PostgreSQL do so without touching the
-- indexes (none covers the columns such an update changes).
ALTER TABLE sessions SET (fillfactor = 85);
