-- The counter's day (issue 20): each operator closes their till once a day, counting cash and
-- card slips against what the books expect; a difference is explained by the operator and
-- approved by the centre's manager, whose approval posts it to `differences:{centre}` (ledger
-- key `till:{centre}/{operator}:{day}`). Then the manager closes the centre's day.
--
-- day: the Jalali date in Iran time, `1405/09/13`. state: closed (no difference), awaiting
-- (a difference waits for the manager), approved (the manager approved it; entry_id posted).
CREATE TABLE till_closes (
    centre         TEXT    NOT NULL,
    operator       TEXT    NOT NULL,
    day            TEXT    NOT NULL,
    expected_cash  INTEGER NOT NULL,
    counted_cash   INTEGER NOT NULL CHECK (counted_cash >= 0),
    expected_card  INTEGER NOT NULL,
    counted_card   INTEGER NOT NULL CHECK (counted_card >= 0),
    difference     INTEGER NOT NULL,
    explanation    TEXT,
    state          TEXT    NOT NULL CHECK (state IN ('closed', 'awaiting', 'approved')),
    closed_at      INTEGER NOT NULL,
    approved_by    TEXT,
    approved_at    INTEGER,
    entry_id       INTEGER REFERENCES ledger_entries(id),
    PRIMARY KEY (centre, operator, day)
) STRICT;

-- A centre's day, closed by its manager once every till that took money is closed and approved.
CREATE TABLE centre_days (
    centre     TEXT    NOT NULL,
    day        TEXT    NOT NULL,
    cash       INTEGER NOT NULL,
    card       INTEGER NOT NULL,
    difference INTEGER NOT NULL,
    tills      INTEGER NOT NULL,
    closed_by  TEXT    NOT NULL,
    closed_at  INTEGER NOT NULL,
    PRIMARY KEY (centre, day)
) STRICT;

CREATE INDEX payments_till ON payments (centre, operator, paid_at);
