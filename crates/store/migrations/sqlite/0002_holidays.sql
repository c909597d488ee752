-- Official holidays, kept by the governorate. Dates are Jalali, as `YYYY/MM/DD` text (which sorts
-- chronologically). A year is "covered" when its whole list is known.
CREATE TABLE holiday_years (
    year       INTEGER PRIMARY KEY,
    covered    INTEGER NOT NULL CHECK (covered IN (0, 1)),
    source     TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE holidays (
    date    TEXT    NOT NULL,
    year    INTEGER NOT NULL REFERENCES holiday_years (year),
    kind    TEXT    NOT NULL CHECK (kind IN ('solar', 'lunar')),
    name_fa TEXT    NOT NULL,
    name_en TEXT    NOT NULL,
    PRIMARY KEY (date, name_fa)
) STRICT;

CREATE INDEX holidays_year ON holidays (year);
