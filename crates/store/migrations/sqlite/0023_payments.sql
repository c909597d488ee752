-- Payments (issue 20): money asked of a person, for an application's fees or for a utility or
-- fine bill, and what became of it. State changes only forward (pishkhan_domain::payment):
-- pending → paid → settled, pending → failed, paid → reversed; each change that moves money
-- posts its ledger entry in the same transaction.
--
-- purpose: 'fee' (application set) or 'bill' (bill_id and payment_id set).
-- method: online (provider, terminal, token set), cash, card (reference: the terminal's).
-- lines: JSON of what the money is for ([{title, rials, centre_share, legal_basis}]).
CREATE TABLE payments (
    number      TEXT PRIMARY KEY,
    purpose     TEXT    NOT NULL CHECK (purpose IN ('fee', 'bill')),
    application TEXT    REFERENCES applications(code),
    bill_id     TEXT,
    payment_id  TEXT,
    payee       TEXT    NOT NULL,
    rials       INTEGER NOT NULL CHECK (rials > 0),
    lines       TEXT    NOT NULL,
    method      TEXT    NOT NULL CHECK (method IN ('online', 'cash', 'card')),
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'paid', 'settled', 'reversed', 'failed')),
    provider    TEXT,
    terminal    TEXT,
    token       TEXT UNIQUE,
    reference   TEXT,
    centre      TEXT,
    operator    TEXT,
    payer       TEXT,
    created_at  INTEGER  NOT NULL,
    paid_at     INTEGER,
    ended_at    INTEGER,
    note        TEXT
) STRICT;
CREATE INDEX payments_application ON payments (application);
CREATE INDEX payments_state ON payments (state, created_at);
-- A bank's reference pays one payment only.
CREATE UNIQUE INDEX payments_reference ON payments (provider, reference) WHERE reference IS NOT NULL;
-- A bill is paid once: a second payment of the same bill and period cannot become paid.
CREATE UNIQUE INDEX payments_bill_paid ON payments (bill_id, payment_id)
    WHERE purpose = 'bill' AND state IN ('paid', 'settled');
