-- Staff and citizen accounts, and the roles each holds within a scope (DOMAIN.md). A scope is
-- stored as its text form: self, centre:CODE, agency:CODE[/UNIT], province:CODE, national.
CREATE TABLE users (
    id            TEXT    PRIMARY KEY,
    username      TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    -- argon2id, PHC string format; never logged or shown.
    password_hash TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    disabled_at   BIGINT
);

CREATE TABLE role_grants (
    user_id    TEXT    NOT NULL REFERENCES users (id),
    role       TEXT    NOT NULL,
    scope      TEXT    NOT NULL,
    granted_at BIGINT  NOT NULL,
    PRIMARY KEY (user_id, role, scope)
);
