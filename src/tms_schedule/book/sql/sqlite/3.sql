-- Schema 2 to 3: each patient's feed served from the book: its version and own choices.
CREATE TABLE feeds (feed_id TEXT PRIMARY KEY, version INTEGER NOT NULL, cancelled TEXT, past_days INTEGER);
