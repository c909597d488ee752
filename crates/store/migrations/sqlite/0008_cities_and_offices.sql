-- Cities (where centres and agency offices stand; the capitals are reference data) and each
-- agency's offices (units) with their contact points and location.
CREATE TABLE cities (
    code     TEXT    PRIMARY KEY,
    province TEXT    NOT NULL REFERENCES provinces (code),
    name_fa  TEXT    NOT NULL,
    capital  INTEGER NOT NULL DEFAULT 0
) STRICT;

INSERT INTO cities (code, province, name_fa, capital) VALUES
    ('tehran-tehran', 'tehran', 'تهران', 1),
    ('alborz-karaj', 'alborz', 'کرج', 1),
    ('isfahan-isfahan', 'isfahan', 'اصفهان', 1),
    ('fars-shiraz', 'fars', 'شیراز', 1),
    ('khorasan-razavi-mashhad', 'khorasan-razavi', 'مشهد', 1),
    ('east-azerbaijan-tabriz', 'east-azerbaijan', 'تبریز', 1),
    ('west-azerbaijan-urmia', 'west-azerbaijan', 'ارومیه', 1),
    ('ardabil-ardabil', 'ardabil', 'اردبیل', 1),
    ('bushehr-bushehr', 'bushehr', 'بوشهر', 1),
    ('chaharmahal-bakhtiari-shahrekord', 'chaharmahal-bakhtiari', 'شهرکرد', 1),
    ('south-khorasan-birjand', 'south-khorasan', 'بیرجند', 1),
    ('north-khorasan-bojnurd', 'north-khorasan', 'بجنورد', 1),
    ('khuzestan-ahvaz', 'khuzestan', 'اهواز', 1),
    ('zanjan-zanjan', 'zanjan', 'زنجان', 1),
    ('semnan-semnan', 'semnan', 'سمنان', 1),
    ('sistan-baluchestan-zahedan', 'sistan-baluchestan', 'زاهدان', 1),
    ('qazvin-qazvin', 'qazvin', 'قزوین', 1),
    ('qom-qom', 'qom', 'قم', 1),
    ('kurdistan-sanandaj', 'kurdistan', 'سنندج', 1),
    ('kerman-kerman', 'kerman', 'کرمان', 1),
    ('kermanshah-kermanshah', 'kermanshah', 'کرمانشاه', 1),
    ('kohgiluyeh-boyer-ahmad-yasuj', 'kohgiluyeh-boyer-ahmad', 'یاسوج', 1),
    ('golestan-gorgan', 'golestan', 'گرگان', 1),
    ('gilan-rasht', 'gilan', 'رشت', 1),
    ('lorestan-khorramabad', 'lorestan', 'خرم‌آباد', 1),
    ('mazandaran-sari', 'mazandaran', 'ساری', 1),
    ('markazi-arak', 'markazi', 'اراک', 1),
    ('hormozgan-bandar-abbas', 'hormozgan', 'بندرعباس', 1),
    ('hamadan-hamadan', 'hamadan', 'همدان', 1),
    ('yazd-yazd', 'yazd', 'یزد', 1),
    ('ilam-ilam', 'ilam', 'ایلام', 1);

CREATE TABLE agency_offices (
    agency     TEXT    NOT NULL REFERENCES agencies (code),
    code       TEXT    NOT NULL,
    name_fa    TEXT    NOT NULL,
    city       TEXT    REFERENCES cities (code),
    address_fa TEXT    NOT NULL DEFAULT '',
    phone      TEXT    NOT NULL DEFAULT '',
    fax        TEXT    NOT NULL DEFAULT '',
    email      TEXT    NOT NULL DEFAULT '',
    hours_fa   TEXT    NOT NULL DEFAULT '',
    latitude   REAL,
    longitude  REAL,
    PRIMARY KEY (agency, code)
) STRICT;
