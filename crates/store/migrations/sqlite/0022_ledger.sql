-- The books (issue 20): every movement of money is one entry of postings that sum to zero, in
-- whole rials (pishkhan_domain::ledger). Nothing here is ever changed or deleted: a mistake is
-- undone by a reversing entry.
--
-- `key` makes posting idempotent: the same payment, callback or close posts once, however often
-- it is told. `reverses` names the entry a reversal undoes; each entry is reversed at most once.
-- `kind`: payment, refund, reversal, settlement, difference …; `reference` what it is about (an
-- application's tracking code, a payment's number, a till's day).
CREATE TABLE ledger_entries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    posted_at   INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    reference   TEXT    NOT NULL,
    memo        TEXT    NOT NULL,
    key         TEXT    UNIQUE,
    reverses    INTEGER UNIQUE REFERENCES ledger_entries(id),
    posted_by   TEXT    NOT NULL
) STRICT;
CREATE INDEX ledger_entries_reference ON ledger_entries (reference);

-- One line of an entry: debit positive, credit negative. `account` is
-- pishkhan_domain::ledger::Account::key (`agency:…`, `centre:…`, `provider:…`, `till:c/o` …).
CREATE TABLE ledger_postings (
    entry_id    INTEGER NOT NULL REFERENCES ledger_entries(id),
    line        INTEGER NOT NULL,
    account     TEXT    NOT NULL,
    rials       INTEGER NOT NULL CHECK (rials <> 0),
    PRIMARY KEY (entry_id, line)
) STRICT;
CREATE INDEX ledger_postings_account ON ledger_postings (account);

-- Defence in depth: the program never changes or removes a line of the books.
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_postings_no_update BEFORE UPDATE ON ledger_postings
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_postings_no_delete BEFORE DELETE ON ledger_postings
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
