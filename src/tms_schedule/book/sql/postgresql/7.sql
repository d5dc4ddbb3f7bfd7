-- Schema 6 to 7 on PostgreSQL: the double-booking guard looks up a session's time before
-- its course, and the sessions' pages keep more room for rows updated where they are.
--
-- GiST places and splits entries by their first columns first. With (site, chair,
-- course_id, time) the guard's index was sorted by course within each chair, and checking
-- a new row ("another course, overlapping times") walked every course that ever sat in
-- that chair: most of a snow day's writing time went there, and half the time taken to
-- build the guard over a bulk load. With the time range before the course, the check
-- looks at the sessions around the new one's time; what it refuses is the same.
ALTER TABLE sessions DROP CONSTRAINT one_session_per_chair;
ALTER TABLE sessions ADD CONSTRAINT one_session_per_chair EXCLUDE USING gist (
    site WITH =, chair WITH =, int4range(starts, ends) WITH &&, course_id WITH <>
) WHERE (chair IS NOT NULL AND status IN ('scheduled', 'attended'))
  DEFERRABLE INITIALLY IMMEDIATE;

-- A re-plan rewrites the place and stamp of most later sessions of its course (their
-- chair time stays). Such an update stays in its page, with no index touched, only when
-- the page has room for the new row: at 85 % full, four in ten went elsewhere and were
-- entered again in every index and the guard; at 70 %, nine in ten stay (new pages only;
-- the rows already there keep their pages until they move).
ALTER TABLE sessions SET (fillfactor = 70);
