-- Identity (issue 4): the organisations roles are scoped to, citizens, sessions, sign-in
-- throttling, one-time codes, consent for assisted filing and API tokens.

-- The 31 provinces are reference data; agencies and centres each belong to one province, which is
-- what lets a governorate admin's scope include them.
CREATE TABLE provinces (
    code    TEXT PRIMARY KEY,
    name_fa TEXT NOT NULL,
    name_en TEXT NOT NULL
);

INSERT INTO provinces (code, name_fa, name_en) VALUES
    ('tehran', 'تهران', 'Tehran'),
    ('alborz', 'البرز', 'Alborz'),
    ('isfahan', 'اصفهان', 'Isfahan'),
    ('fars', 'فارس', 'Fars'),
    ('khorasan-razavi', 'خراسان رضوی', 'Razavi Khorasan'),
    ('east-azerbaijan', 'آذربایجان شرقی', 'East Azerbaijan'),
    ('west-azerbaijan', 'آذربایجان غربی', 'West Azerbaijan'),
    ('ardabil', 'اردبیل', 'Ardabil'),
    ('bushehr', 'بوشهر', 'Bushehr'),
    ('chaharmahal-bakhtiari', 'چهارمحال و بختیاری', 'Chaharmahal and Bakhtiari'),
    ('south-khorasan', 'خراسان جنوبی', 'South Khorasan'),
    ('north-khorasan', 'خراسان شمالی', 'North Khorasan'),
    ('khuzestan', 'خوزستان', 'Khuzestan'),
    ('zanjan', 'زنجان', 'Zanjan'),
    ('semnan', 'سمنان', 'Semnan'),
    ('sistan-baluchestan', 'سیستان و بلوچستان', 'Sistan and Baluchestan'),
    ('qazvin', 'قزوین', 'Qazvin'),
    ('qom', 'قم', 'Qom'),
    ('kurdistan', 'کردستان', 'Kurdistan'),
    ('kerman', 'کرمان', 'Kerman'),
    ('kermanshah', 'کرمانشاه', 'Kermanshah'),
    ('kohgiluyeh-boyer-ahmad', 'کهگیلویه و بویراحمد', 'Kohgiluyeh and Boyer-Ahmad'),
    ('golestan', 'گلستان', 'Golestan'),
    ('gilan', 'گیلان', 'Gilan'),
    ('lorestan', 'لرستان', 'Lorestan'),
    ('mazandaran', 'مازندران', 'Mazandaran'),
    ('markazi', 'مرکزی', 'Markazi'),
    ('hormozgan', 'هرمزگان', 'Hormozgan'),
    ('hamadan', 'همدان', 'Hamadan'),
    ('yazd', 'یزد', 'Yazd'),
    ('ilam', 'ایلام', 'Ilam');

CREATE TABLE agencies (
    code       TEXT    PRIMARY KEY,
    province   TEXT    NOT NULL REFERENCES provinces (code),
    name_fa    TEXT    NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE centres (
    code       TEXT    PRIMARY KEY,
    province   TEXT    NOT NULL REFERENCES provinces (code),
    name_fa    TEXT    NOT NULL,
    created_at BIGINT NOT NULL
);

-- Second factor (base32 TOTP secret; the last step used, so a code works once) and a flag an
-- admin's password reset sets.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;

-- A citizen is known by national ID, bound to the mobile number their first sign-in proved.
CREATE TABLE citizens (
    id          TEXT    PRIMARY KEY,
    national_id TEXT    NOT NULL UNIQUE,
    mobile      TEXT    NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Sessions live in the database so any node serves any request. Only the SHA-256 of the cookie's
-- token is stored. `stage` is `full` once sign-in is complete; before that it names the step
-- still owed (second factor, its enrolment, a password change).
CREATE TABLE sessions (
    token_hash     TEXT    PRIMARY KEY,
    user_id        TEXT    REFERENCES users (id),
    citizen_id     TEXT    REFERENCES citizens (id),
    stage          TEXT    NOT NULL,
    csrf           TEXT    NOT NULL,
    created_at     BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    ip             TEXT    NOT NULL,
    user_agent     TEXT    NOT NULL,
    pending_secret TEXT,
    CHECK ((user_id IS NULL) <> (citizen_id IS NULL))
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_citizen ON sessions (citizen_id);

-- Attempts counted by the sign-in and code limiters, by key (`password-user:NAME`, `sms-ip:IP` …).
CREATE TABLE auth_attempts (
    key TEXT    NOT NULL,
    at  BIGINT NOT NULL
);
CREATE INDEX auth_attempts_key_at ON auth_attempts (key, at);

-- One-time codes sent by SMS, for sign-in and for consent; only a salted hash is kept.
CREATE TABLE one_time_codes (
    id           TEXT    PRIMARY KEY,
    purpose      TEXT    NOT NULL,
    mobile       TEXT    NOT NULL,
    national_id  TEXT    NOT NULL,
    code_hash    TEXT    NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    used_at      BIGINT,
    requested_by TEXT    REFERENCES users (id),
    centre       TEXT    REFERENCES centres (code),
    note         TEXT    NOT NULL DEFAULT ''
);

-- A citizen's consent, proved by a code sent to their mobile, for an operator of a centre to file
-- for them.
CREATE TABLE consents (
    id          TEXT    PRIMARY KEY,
    citizen_id  TEXT    NOT NULL REFERENCES citizens (id),
    operator_id TEXT    NOT NULL REFERENCES users (id),
    centre      TEXT    NOT NULL REFERENCES centres (code),
    purpose     TEXT    NOT NULL,
    granted_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX consents_citizen ON consents (citizen_id, granted_at);

-- Bearer tokens of agency systems' API clients (users holding the `system` role).
CREATE TABLE api_tokens (
    token_hash TEXT    PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id),
    label      TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
