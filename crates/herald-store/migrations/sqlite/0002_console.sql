-- The web console's people, their sessions, and the settings changed in it.
--
-- A console user is someone who signs in to herald's pages (an accountant, a
-- broker's clerk, an administrator); they are not the business's `operators`,
-- who receive digests. Passwords are kept as argon2 PHC strings only.
CREATE TABLE console_users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    login         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    password_hash TEXT NOT NULL,
    locale        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    disabled_at   INTEGER
);

-- A signed-in browser. The cookie holds a random secret; the store holds only its
-- SHA-256, so a copy of the database signs nobody in. `csrf` is the token every
-- form of this session must carry back.
CREATE TABLE console_sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES console_users (id),
    csrf         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX console_sessions_user ON console_sessions (user_id);

-- Settings changed in the console, over what the config file says: one JSON value
-- per key, with who changed it and when (the audit log keeps every change).
CREATE TABLE console_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    changed_at INTEGER NOT NULL,
    changed_by TEXT NOT NULL
);
