-- Schema 1 to 2: offers made by `book offer`, kept until `book take` books one.
CREATE TABLE offers (key TEXT PRIMARY KEY, document TEXT NOT NULL, made TEXT NOT NULL);
