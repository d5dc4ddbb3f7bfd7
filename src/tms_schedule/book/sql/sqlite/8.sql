-- Schema 7 to 8: the courses that follow a course, found by an index. A change holds the
-- courses that follow the ones it holds (a closure that makes a course end later moves its
-- patient's next course out of its way); without the index each change read every course
-- of the site to find them.
CREATE INDEX courses_by_follows ON courses (site, follows);
