//! Search as people talk: queries written the way people say them (long sentences, spoken forms
//! and verbs, Persian in Latin letters, a slip in a short word), each with the service that must
//! come in the top three. The catalogue's own words are tested in `portal.rs`; this table is the
//! other half, and at least 90% of it must hold.

use crate::portal::{demo_router, top_three};

const SPOKEN: &[(&str, &str)] = &[
    // A birth
    ("بچه‌ام به دنیا اومده شناسنامه می‌خوام", "birth-certificate"),
    ("شناسنامه برای بچه تازه به دنیا اومده", "birth-certificate"),
    ("نوزادم شناسنامه نداره", "birth-certificate"),
    ("بچه‌دار شدیم شناسنامه بگیریم", "birth-certificate"),
    ("shenasname nozad", "birth-certificate"),
    ("تولد بچه رو ثبت کنم", "birth-certificate"),
    // A lost or worn birth certificate
    ("شناسنامه‌ام گم شده", "duplicate-birth-certificate"),
    ("شناسناممو گم کردم", "duplicate-birth-certificate"),
    ("شناسنامه‌ام پاره شده", "duplicate-birth-certificate"),
    ("شناسنامه‌مو دزدیدن", "duplicate-birth-certificate"),
    ("shenasname almosana", "duplicate-birth-certificate"),
    (
        "شناسنامه جدید میخوام قبلی خراب شده",
        "duplicate-birth-certificate",
    ),
    // A death
    ("پدرم فوت کرده چیکار کنم", "death-certificate"),
    ("مادربزرگم مرده گواهی فوت میخوام", "death-certificate"),
    ("ثبت فوت بابام", "death-certificate"),
    ("باطل کردن شناسنامه کسی که فوت شده", "death-certificate"),
    ("govahi fot", "death-certificate"),
    // A new name
    ("عوض کردن اسم", "change-of-name"),
    ("میخوام اسمم رو عوض کنم", "change-of-name"),
    ("اسم کوچیکمو عوض کنم", "change-of-name"),
    ("اسمم رو دوست ندارم", "change-of-name"),
    ("taghir name", "change-of-name"),
    // Taxes
    ("مفاصا حساب مالیات میخوام", "tax-clearance"),
    ("برگه تسویه مالیات", "tax-clearance"),
    ("گواهی بدهی مالیاتی ندارم", "tax-clearance"),
    ("mafasa hesab", "tax-clearance"),
    ("اظهارنامه مالیاتی مغازه", "tax-declaration"),
    ("مالیات مغازه‌ام رو اظهار کنم", "tax-declaration"),
    ("اظهار درآمد سالانه کاسب‌ها", "tax-declaration"),
    ("ezharname maliati", "tax-declaration"),
    // A first driving licence
    ("میخوام گواهینامه بگیرم", "driving-licence-first"),
    ("اولین گواهینامه‌ام رو بگیرم", "driving-licence-first"),
    ("تازه ۱۸ سالم شده گواهینامه میخوام", "driving-licence-first"),
    ("گواهینامه ماشین سواری", "driving-licence-first"),
    ("ثبت نام آموزشگاه رانندگی", "driving-licence-first"),
    ("govahiname", "driving-licence-first"),
    // Renewing it
    ("گواهینامه‌ام سوخته", "driving-licence-renewal"),
    ("گواهینامم تاریخش گذشته", "driving-licence-renewal"),
    ("گواهینامه‌ام باطل شده", "driving-licence-renewal"),
    ("تمدید گواهی نامه ام", "driving-licence-renewal"),
    ("tamdid govahiname", "driving-licence-renewal"),
    ("گواهینامم اعتبارش تموم شده", "driving-licence-renewal"),
    // Traffic fines
    ("خلافی ماشینمو ببینم", "traffic-fines"),
    ("جریمه‌های ماشینم چقدره", "traffic-fines"),
    ("پرداخت جریمه رانندگی", "traffic-fines"),
    ("khalafi", "traffic-fines"),
    ("جریمه دوربین پلیس", "traffic-fines"),
    // Selling or buying a car
    ("ماشین فروختم سند بزنم", "plate-transfer"),
    ("ماشین خریدم به نامم کنم", "plate-transfer"),
    ("پلاک ماشینمو عوض کنم", "plate-transfer"),
    ("انتقال سند ماشین", "plate-transfer"),
    ("pelak", "plate-transfer"),
    // Utilities
    ("برق خونه جدید", "electricity-connection"),
    ("کنتور برق میخوام", "electricity-connection"),
    ("برق‌کشی مغازه", "electricity-connection"),
    ("انشعاب برق گرفتن برای خونه", "electricity-connection"),
    ("enshab bargh", "electricity-connection"),
    ("آب خونه رو وصل کنن", "water-connection"),
    ("انشعاب آب میخوام", "water-connection"),
    ("فاضلاب خونه", "water-connection"),
    ("kontor ab", "water-connection"),
    ("انشعاب آب برای زمین", "water-connection"),
    ("انشعاب گار", "gas-connection"),
    ("گاز خونه رو وصل کنن", "gas-connection"),
    ("علمک گاز", "gas-connection"),
    ("لوله‌کشی گاز خونه", "gas-connection"),
    ("کنتور گاز میخوام", "gas-connection"),
    ("enshab gaz", "gas-connection"),
    ("تلفن خونه میخوام", "telephone-line"),
    ("خط تلفن ثابت بگیرم", "telephone-line"),
    ("تلفن ثابت جدید", "telephone-line"),
    ("telefon sabet", "telephone-line"),
    ("خط تلفن برای مغازه", "telephone-line"),
    ("برق رفته", "electricity-outage-report"),
    ("برق قطع شده", "electricity-outage-report"),
    ("برق کوچه‌مون رفته", "electricity-outage-report"),
    ("چراغ برق کوچه خاموشه", "electricity-outage-report"),
    ("bargh rafte", "electricity-outage-report"),
    ("قبض برقمو بدم", "bill-payment"),
    ("پرداخت قبض گاز", "bill-payment"),
    ("قبض آب پرداخت کنم", "bill-payment"),
    ("پول قبض تلفن", "bill-payment"),
    ("ghabz", "bill-payment"),
    // Building
    ("میخوام خونه بسازم", "building-permit"),
    ("جواز ساخت خونه", "building-permit"),
    ("مجوز ساختمون", "building-permit"),
    ("خونه کلنگی رو بکوبم بسازم", "building-permit"),
    ("javaz sakht", "building-permit"),
    ("عدم خلاف ساختمون", "no-violation-certificate"),
    ("گواهی عدم خلاف خونه", "no-violation-certificate"),
    ("adam khalaf", "no-violation-certificate"),
    ("پایان کار خونه", "completion-certificate"),
    ("پایانکار ساختمون", "completion-certificate"),
    ("payan kar", "completion-certificate"),
    ("عوارض خونه رو بدم", "renovation-charges"),
    ("عوارض شهرداری ملکم", "renovation-charges"),
    ("عوارض نوسازی خونه", "renovation-charges"),
    ("avarez nosazi", "renovation-charges"),
    // Business
    ("جواز مغازه", "business-licence"),
    ("مغازه باز کنم مجوز میخوام", "business-licence"),
    ("پروانه کسب مغازه", "business-licence"),
    ("javaz kasb", "business-licence"),
    ("میخوام کاسبی راه بندازم", "business-licence"),
    ("کارت بازرگانی بگیرم برای واردات", "commercial-card"),
    ("مجوز واردات و صادرات", "commercial-card"),
    ("kart bazargani", "commercial-card"),
];

/// Written after the search was tuned on [`SPOKEN`] and never tuned on: how well the rules
/// carry to queries they were not made for. Counted with the rest, and reported apart.
const HELD_OUT: &[(&str, &str)] = &[
    ("شناسنامه دخترم رو گم کردیم", "duplicate-birth-certificate"),
    ("برای نوه‌ام شناسنامه بگیرم", "birth-certificate"),
    ("فوت پدربزرگ ثبت کنم", "death-certificate"),
    ("اسم پسرم رو میخوام عوض کنم", "change-of-name"),
    ("گواهی مالیاتی برای کارت بازرگانی", "tax-clearance"),
    ("اظهارنامه مالیات امسال", "tax-declaration"),
    ("گواهینامه رانندگی میخوام بگیرم", "driving-licence-first"),
    ("تاریخ گواهینامه‌ام تموم شده", "driving-licence-renewal"),
    ("جریمه‌های پلاک ماشینم", "traffic-fines"),
    ("ماشینم رو به اسم پسرم بزنم", "plate-transfer"),
    ("کنتور برق مغازه", "electricity-connection"),
    ("آب زمینم رو وصل کنم", "water-connection"),
    ("گاز ویلا", "gas-connection"),
    ("تلفن ثابت برای خونه جدیدم", "telephone-line"),
    ("برق محله قطعه", "electricity-outage-report"),
    ("قبض گازمو پرداخت کنم", "bill-payment"),
    ("مجوز ساخت ویلا", "building-permit"),
    ("پایان کار آپارتمان", "completion-certificate"),
    ("عوارض نوسازی ملک", "renovation-charges"),
    ("جواز کسب سوپرمارکت", "business-licence"),
    ("کارت بازرگانی تمدید", "commercial-card"),
    ("govahiname ranandegi", "driving-licence-first"),
    ("shenasname gom shode", "duplicate-birth-certificate"),
    ("khalafi mashin", "traffic-fines"),
];

async fn misses_of(router: &axum::Router, table: &[(&str, &str)]) -> Vec<String> {
    let mut misses = Vec::new();
    for (query, key) in table {
        let found = top_three(router, query).await;
        if !found.contains(&format!("tehran.{key}")) {
            misses.push(format!("{query:?} → {found:?}, expected tehran.{key}"));
        }
    }
    misses
}

#[tokio::test]
async fn people_find_services_as_they_talk() {
    let (_db, router) = demo_router().await;
    assert!(SPOKEN.len() >= 100, "{} queries", SPOKEN.len());
    let tuned = misses_of(&router, SPOKEN).await;
    let held = misses_of(&router, HELD_OUT).await;
    let total = SPOKEN.len() + HELD_OUT.len();
    let found = total - tuned.len() - held.len();
    eprintln!(
        "spoken queries: {} of {} (tuned on), {} of {} (held out); {found} of {total} in the top three ({:.1}%)\n{}\n{}",
        SPOKEN.len() - tuned.len(),
        SPOKEN.len(),
        HELD_OUT.len() - held.len(),
        HELD_OUT.len(),
        100.0 * found as f64 / total as f64,
        tuned.join("\n"),
        held.join("\n")
    );
    assert!(
        found * 10 >= total * 9,
        "fewer than 90% in the top three ({found} of {total}):\n{}\n{}",
        tuned.join("\n"),
        held.join("\n")
    );
}
