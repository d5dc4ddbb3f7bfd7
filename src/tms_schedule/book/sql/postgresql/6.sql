-- Schema 5 to 6 on PostgreSQL: keys a site's servers share (see sqlite/6.sql): every desk
-- process on the database accepts the sign-in cookies the others signed.
CREATE TABLE secrets (
    site TEXT NOT NULL REFERENCES sites (site),
    name TEXT NOT NULL,            -- what the key is for ("desk cookies")
    value BYTEA NOT NULL,          -- 32 random bytes
    made TEXT NOT NULL,            -- when it was made (UTC)
    PRIMARY KEY (site, name)
);
