-- A counter's money and its close, one after the other (issue 20): a payment taken at a counter,
-- an operator's till close and the centre's day close each first take the row of their centre's
-- day here (an UPDATE, which PostgreSQL holds until the transaction ends; SQLite has one writer),
-- then check inside the same transaction: the payment that its till and day are not closed, a
-- close that the takings it counted are still what the books hold. So a payment and a close in
-- the very same instant cannot both pass: the second waits for the first and sees it.
CREATE TABLE counter_locks (
    centre TEXT    NOT NULL,
    day    TEXT    NOT NULL,
    writes BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (centre, day)
);

-- The bills a person paid online, for their own list.
CREATE INDEX payments_payer ON payments (payer, created_at) WHERE payer IS NOT NULL;
