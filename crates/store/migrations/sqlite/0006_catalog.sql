-- The catalogue (issue 5): service cards and forms, every version kept. A version's body is the
-- card or form as JSON (crates/domain: catalog::ServiceCard, forms::FormSchema); the columns
-- beside it are what lists and filters need. Each row of services/forms says which version is
-- the latest and which one the public sees.
CREATE TABLE services (
    code              TEXT    PRIMARY KEY,
    agency            TEXT    NOT NULL REFERENCES agencies (code),
    latest_version    INTEGER NOT NULL,
    -- draft, review, published, retired: the state of the latest version.
    status            TEXT    NOT NULL,
    -- The version the portal and the API show; NULL until first published, and after retiring.
    published_version INTEGER,
    updated_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE service_versions (
    code       TEXT    NOT NULL REFERENCES services (code),
    version    INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    title_fa   TEXT    NOT NULL,
    category   TEXT    NOT NULL,
    author     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (code, version)
) STRICT;

-- Every change of state (saved, sent for review, published, retired), by whom and when.
CREATE TABLE service_history (
    id      INTEGER PRIMARY KEY,
    code    TEXT    NOT NULL REFERENCES services (code),
    version INTEGER NOT NULL,
    event   TEXT    NOT NULL,
    actor   TEXT    NOT NULL,
    at      INTEGER NOT NULL
) STRICT;
CREATE INDEX service_history_code ON service_history (code, id);

CREATE TABLE forms (
    code              TEXT    PRIMARY KEY,
    agency            TEXT    NOT NULL REFERENCES agencies (code),
    latest_version    INTEGER NOT NULL,
    status            TEXT    NOT NULL,
    published_version INTEGER,
    updated_at        INTEGER NOT NULL
) STRICT;

CREATE TABLE form_versions (
    code       TEXT    NOT NULL REFERENCES forms (code),
    version    INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    title_fa   TEXT    NOT NULL,
    author     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (code, version)
) STRICT;

-- Each province's capital (reference data) and whether it is a pilot province (a flag the
-- governorate's plan sets).
ALTER TABLE provinces ADD COLUMN capital_fa TEXT NOT NULL DEFAULT '';
ALTER TABLE provinces ADD COLUMN capital_en TEXT NOT NULL DEFAULT '';
ALTER TABLE provinces ADD COLUMN pilot INTEGER NOT NULL DEFAULT 0;
UPDATE provinces SET capital_fa = 'تهران', capital_en = 'Tehran' WHERE code = 'tehran';
UPDATE provinces SET capital_fa = 'کرج', capital_en = 'Karaj' WHERE code = 'alborz';
UPDATE provinces SET capital_fa = 'اصفهان', capital_en = 'Isfahan' WHERE code = 'isfahan';
UPDATE provinces SET capital_fa = 'شیراز', capital_en = 'Shiraz' WHERE code = 'fars';
UPDATE provinces SET capital_fa = 'مشهد', capital_en = 'Mashhad' WHERE code = 'khorasan-razavi';
UPDATE provinces SET capital_fa = 'تبریز', capital_en = 'Tabriz' WHERE code = 'east-azerbaijan';
UPDATE provinces SET capital_fa = 'ارومیه', capital_en = 'Urmia' WHERE code = 'west-azerbaijan';
UPDATE provinces SET capital_fa = 'اردبیل', capital_en = 'Ardabil' WHERE code = 'ardabil';
UPDATE provinces SET capital_fa = 'بوشهر', capital_en = 'Bushehr' WHERE code = 'bushehr';
UPDATE provinces SET capital_fa = 'شهرکرد', capital_en = 'Shahrekord' WHERE code = 'chaharmahal-bakhtiari';
UPDATE provinces SET capital_fa = 'بیرجند', capital_en = 'Birjand' WHERE code = 'south-khorasan';
UPDATE provinces SET capital_fa = 'بجنورد', capital_en = 'Bojnurd' WHERE code = 'north-khorasan';
UPDATE provinces SET capital_fa = 'اهواز', capital_en = 'Ahvaz' WHERE code = 'khuzestan';
UPDATE provinces SET capital_fa = 'زنجان', capital_en = 'Zanjan' WHERE code = 'zanjan';
UPDATE provinces SET capital_fa = 'سمنان', capital_en = 'Semnan' WHERE code = 'semnan';
UPDATE provinces SET capital_fa = 'زاهدان', capital_en = 'Zahedan' WHERE code = 'sistan-baluchestan';
UPDATE provinces SET capital_fa = 'قزوین', capital_en = 'Qazvin' WHERE code = 'qazvin';
UPDATE provinces SET capital_fa = 'قم', capital_en = 'Qom' WHERE code = 'qom';
UPDATE provinces SET capital_fa = 'سنندج', capital_en = 'Sanandaj' WHERE code = 'kurdistan';
UPDATE provinces SET capital_fa = 'کرمان', capital_en = 'Kerman' WHERE code = 'kerman';
UPDATE provinces SET capital_fa = 'کرمانشاه', capital_en = 'Kermanshah' WHERE code = 'kermanshah';
UPDATE provinces SET capital_fa = 'یاسوج', capital_en = 'Yasuj' WHERE code = 'kohgiluyeh-boyer-ahmad';
UPDATE provinces SET capital_fa = 'گرگان', capital_en = 'Gorgan' WHERE code = 'golestan';
UPDATE provinces SET capital_fa = 'رشت', capital_en = 'Rasht' WHERE code = 'gilan';
UPDATE provinces SET capital_fa = 'خرم‌آباد', capital_en = 'Khorramabad' WHERE code = 'lorestan';
UPDATE provinces SET capital_fa = 'ساری', capital_en = 'Sari' WHERE code = 'mazandaran';
UPDATE provinces SET capital_fa = 'اراک', capital_en = 'Arak' WHERE code = 'markazi';
UPDATE provinces SET capital_fa = 'بندرعباس', capital_en = 'Bandar Abbas' WHERE code = 'hormozgan';
UPDATE provinces SET capital_fa = 'همدان', capital_en = 'Hamadan' WHERE code = 'hamadan';
UPDATE provinces SET capital_fa = 'یزد', capital_en = 'Yazd' WHERE code = 'yazd';
UPDATE provinces SET capital_fa = 'ایلام', capital_en = 'Ilam' WHERE code = 'ilam';
