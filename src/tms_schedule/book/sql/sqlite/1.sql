-- Schema 1: the clinic settings and the book's state, each course's document, the chair of
-- each session that holds one, and a trigger against two sessions on one chair at once.
CREATE TABLE settings (id INTEGER PRIMARY KEY CHECK (id = 1), toml BLOB NOT NULL, name TEXT NOT NULL, state TEXT NOT NULL);
CREATE TABLE courses (course_id TEXT PRIMARY KEY, document TEXT NOT NULL, position INTEGER NOT NULL, updated TEXT NOT NULL);
CREATE TABLE seats (course_id TEXT NOT NULL REFERENCES courses(course_id), session INTEGER NOT NULL, chair TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, PRIMARY KEY (course_id, session));
CREATE INDEX seats_by_chair ON seats (chair, start);
CREATE TRIGGER one_session_per_chair BEFORE INSERT ON seats WHEN EXISTS (SELECT 1 FROM seats WHERE chair = NEW.chair AND course_id != NEW.course_id AND start < NEW."end" AND NEW.start < "end") BEGIN SELECT RAISE(ABORT, 'two sessions on one chair at once'); END;
