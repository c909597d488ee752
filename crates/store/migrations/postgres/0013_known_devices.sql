-- Browsers that signed in to a staff account before (issue 16). Wrong passwords slow down the
-- address they come from, not the account; where the account's own budget of password checks
-- is spent (many addresses guessing at once), a browser listed here for that account still gets
-- through to the password check. Only the SHA-256 of the browser's cookie is kept. Instants are
-- milliseconds since the epoch.
CREATE TABLE known_devices (
    token_hash   TEXT    PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id),
    created_at   BIGINT  NOT NULL
);
CREATE INDEX known_devices_user ON known_devices (user_id);
