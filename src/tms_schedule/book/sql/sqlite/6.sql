-- Schema 5 to 6: keys a site's servers share. The front desk signs its sign-in cookies
-- with one; kept in the book, every desk process on the same book (one file, or one
-- PostgreSQL database) accepts the others' cookies without a key file handed around.
-- A key is made once, the first time its name is asked for, and never changes.
CREATE TABLE secrets (
    site TEXT NOT NULL REFERENCES sites (site),
    name TEXT NOT NULL,            -- what the key is for ("desk cookies")
    value BLOB NOT NULL,           -- 32 random bytes
    made TEXT NOT NULL,            -- when it was made (UTC)
    PRIMARY KEY (site, name)
);
