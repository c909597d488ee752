//! Utility and fine bills: bill ID (شناسه قبض) and payment ID (شناسه پرداخت).

use super::{Problem, digits_only};

/// What a bill is for, from the bill ID's second-to-last digit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BillServiceType {
    Water,
    Electricity,
    Gas,
    FixedTelephone,
    Mobile,
    Municipality,
    Tax,
    TrafficFines,
}

impl BillServiceType {
    /// The service-type digit's meaning. Kept as data: ports of the reference implementation
    /// disagree about 7 and 8; 7 is unused, 8 is tax.
    const TABLE: [(u32, BillServiceType); 8] = [
        (1, BillServiceType::Water),
        (2, BillServiceType::Electricity),
        (3, BillServiceType::Gas),
        (4, BillServiceType::FixedTelephone),
        (5, BillServiceType::Mobile),
        (6, BillServiceType::Municipality),
        (8, BillServiceType::Tax),
        (9, BillServiceType::TrafficFines),
    ];

    fn from_digit(digit: u32) -> Option<BillServiceType> {
        Self::TABLE
            .iter()
            .find(|(d, _)| *d == digit)
            .map(|(_, t)| *t)
    }

    /// The type a stable code names ([`BillServiceType::code`]).
    pub fn from_code(code: &str) -> Option<BillServiceType> {
        Self::TABLE
            .iter()
            .map(|(_, t)| *t)
            .find(|t| t.code() == code)
    }

    /// A stable code for APIs.
    pub fn code(self) -> &'static str {
        match self {
            BillServiceType::Water => "water",
            BillServiceType::Electricity => "electricity",
            BillServiceType::Gas => "gas",
            BillServiceType::FixedTelephone => "fixed_telephone",
            BillServiceType::Mobile => "mobile",
            BillServiceType::Municipality => "municipality",
            BillServiceType::Tax => "tax",
            BillServiceType::TrafficFines => "traffic_fines",
        }
    }

    pub fn name_fa(self) -> &'static str {
        match self {
            BillServiceType::Water => "آب",
            BillServiceType::Electricity => "برق",
            BillServiceType::Gas => "گاز",
            BillServiceType::FixedTelephone => "تلفن ثابت",
            BillServiceType::Mobile => "تلفن همراه",
            BillServiceType::Municipality => "عوارض شهرداری",
            BillServiceType::Tax => "سازمان امور مالیاتی",
            BillServiceType::TrafficFines => "جرایم راهنمایی و رانندگی",
        }
    }
}

/// The mod-11 check digit used by bill and payment IDs: digits from the right weighted 2…7
/// repeating; 0 when the remainder is below 2, else 11 minus it.
fn m11(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| u32::from(b - b'0') * (2 + (i as u32 % 6)))
        .sum();
    match sum % 11 {
        0 | 1 => 0,
        r => 11 - r,
    }
}

fn last_digit(digits: &str) -> u32 {
    digits.bytes().last().map_or(0, |b| u32::from(b - b'0'))
}

fn length_error(what: (&str, &str), got: usize) -> Problem {
    Problem::new(
        "wrong_length",
        format!(
            "{} باید بین ۶ تا ۱۳ رقم باشد؛ {} رقم وارد شده است.",
            what.0,
            crate::text::to_persian_digits(&got.to_string())
        ),
        format!(
            "The {} must have 6 to 13 digits; {got} were entered.",
            what.1
        ),
    )
}

/// Bill ID: file number ‖ company code (3) ‖ service type (1) ‖ check digit (1), 6 to 13 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillId(String);

impl BillId {
    pub fn parse(input: &str) -> Result<BillId, Problem> {
        const WHAT: (&str, &str) = ("شناسه قبض", "bill ID");
        let digits = digits_only(input, WHAT)?;
        let digits = digits.trim_start_matches('0').to_owned();
        if !(6..=13).contains(&digits.len()) {
            return Err(length_error(WHAT, digits.len()));
        }
        if m11(&digits[..digits.len() - 1]) != last_digit(&digits) {
            return Err(Problem::new(
                "checksum",
                "رقم کنترل شناسهٔ قبض درست نیست؛ آن را دوباره از روی قبض بخوانید.",
                "This bill ID is not valid: its check digit does not match.",
            ));
        }
        let bill = BillId(digits);
        if bill.service_type().is_none() {
            return Err(Problem::new(
                "unknown_service_type",
                "شناسه قبض درست نیست: رقم نوع خدمت آن (یکی مانده به آخر) به هیچ خدمتی تعلق ندارد.",
                "This bill ID is not valid: its service-type digit (second to last) names no service.",
            ));
        }
        Ok(bill)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The service type (always known for a parsed bill ID).
    pub fn service_type(&self) -> Option<BillServiceType> {
        let digit = self.0.as_bytes()[self.0.len() - 2];
        BillServiceType::from_digit(u32::from(digit - b'0'))
    }

    /// The three-digit company code.
    pub fn company_code(&self) -> &str {
        &self.0[self.0.len() - 5..self.0.len() - 2]
    }

    /// The subscriber's file number (what remains before the company code).
    pub fn file_number(&self) -> &str {
        &self.0[..self.0.len() - 5]
    }
}

/// Payment ID: amount ÷ 1000 ‖ year digit ‖ period (2) ‖ check 1 ‖ check 2, 6 to 13 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentId(String);

impl PaymentId {
    /// Checks the payment ID's own check digit (the second-to-last). The last digit ties it to a
    /// bill ID: see [`PaymentId::belongs_to`].
    pub fn parse(input: &str) -> Result<PaymentId, Problem> {
        const WHAT: (&str, &str) = ("شناسه پرداخت", "payment ID");
        let digits = digits_only(input, WHAT)?;
        let digits = digits.trim_start_matches('0').to_owned();
        if !(6..=13).contains(&digits.len()) {
            return Err(length_error(WHAT, digits.len()));
        }
        let body = &digits[..digits.len() - 2];
        let check1 = u32::from(digits.as_bytes()[digits.len() - 2] - b'0');
        if m11(body) != check1 {
            return Err(Problem::new(
                "checksum",
                "رقم کنترل شناسهٔ پرداخت درست نیست؛ آن را دوباره از روی قبض بخوانید.",
                "This payment ID is not valid: its check digit does not match.",
            ));
        }
        Ok(PaymentId(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The amount due, in rials: the digits before the last five, times 1000.
    pub fn amount_rials(&self) -> i64 {
        self.0[..self.0.len() - 5]
            .parse::<i64>()
            .map_or(0, |thousands| thousands * 1000)
    }

    /// The last digit of the year the bill is for.
    pub fn year_digit(&self) -> u8 {
        self.0.as_bytes()[self.0.len() - 5] - b'0'
    }

    /// The billing period (two digits).
    pub fn period(&self) -> &str {
        &self.0[self.0.len() - 4..self.0.len() - 2]
    }

    /// Whether this payment ID was issued for `bill`: its last digit checks the two together.
    pub fn belongs_to(&self, bill: &BillId) -> bool {
        let joined = format!("{}{}", bill.as_str(), &self.0[..self.0.len() - 1]);
        m11(&joined) == last_digit(&self.0)
    }
}

/// Everything about a bill ID and payment ID pair.
#[derive(Debug, Clone)]
pub struct BillCheck {
    pub bill: Result<BillId, Problem>,
    pub payment: Result<PaymentId, Problem>,
    /// Whether the two belong together; `None` unless both are valid on their own.
    pub pair_matches: Option<bool>,
}

impl BillCheck {
    /// Valid only when both are valid and belong together.
    pub fn is_valid(&self) -> bool {
        self.pair_matches == Some(true)
    }

    /// The 26-character barcode: bill ID and payment ID, each left-padded with zeros to 13.
    pub fn barcode(&self) -> Option<String> {
        match (&self.bill, &self.payment) {
            (Ok(bill), Ok(payment)) if self.is_valid() => {
                Some(format!("{:0>13}{:0>13}", bill.as_str(), payment.as_str()))
            }
            _ => None,
        }
    }
}

/// The bill ID and payment ID a company issues for a bill: file number, company code (3 digits)
/// and service type make the bill ID; the amount (whole thousands of rials), the year's last
/// digit and the period (1–99) make the payment ID, its last digit tying it to the bill ID.
/// `None` when a part is out of range (a file number of 1 to 8 digits; an amount below a
/// thousand billion rials).
pub fn issue_bill(
    file_number: u32,
    company: u16,
    service: BillServiceType,
    rials: i64,
    year_digit: u8,
    period: u8,
) -> Option<(BillId, PaymentId)> {
    let type_digit = BillServiceType::TABLE
        .iter()
        .find(|(_, t)| *t == service)
        .map(|(d, _)| *d)?;
    if file_number == 0
        || file_number > 99_999_999
        || company > 999
        || rials < 1000
        || rials % 1000 != 0
        || rials >= 1_000_000_000_000
        || year_digit > 9
        || !(1..=99).contains(&period)
    {
        return None;
    }
    let body = format!("{file_number}{company:03}{type_digit}");
    let bill = format!("{body}{}", m11(&body));
    let payment_body = format!("{}{year_digit}{period:02}", rials / 1000);
    let check1 = m11(&payment_body);
    let joined = format!("{bill}{payment_body}{check1}");
    let payment = format!("{payment_body}{check1}{}", m11(&joined));
    Some((BillId::parse(&bill).ok()?, PaymentId::parse(&payment).ok()?))
}

/// The bill ID and payment ID a 26-digit barcode (as a scanner or a person types it, Persian
/// digits and spaces allowed) carries; `None` when it is not 26 digits.
pub fn split_barcode(input: &str) -> Option<(String, String)> {
    let digits: String = crate::text::to_ascii_digits(input)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    if digits.len() != 26 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let part = |s: &str| s.trim_start_matches('0').to_owned();
    Some((part(&digits[..13]), part(&digits[13..])))
}

pub fn inspect_bill(bill_id: &str, payment_id: &str) -> BillCheck {
    let bill = BillId::parse(bill_id);
    let payment = PaymentId::parse(payment_id);
    let pair_matches = match (&bill, &payment) {
        (Ok(bill), Ok(payment)) => Some(payment.belongs_to(bill)),
        _ => None,
    };
    BillCheck {
        bill,
        payment,
        pair_matches,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_example_bill() {
        let check = inspect_bill("7748317800142", "1770160");
        assert!(check.is_valid(), "{check:?}");
        let bill = check.bill.as_ref().unwrap();
        assert_eq!(bill.service_type(), Some(BillServiceType::FixedTelephone));
        assert_eq!(bill.company_code(), "001");
        assert_eq!(bill.file_number(), "77483178");
        let payment = check.payment.as_ref().unwrap();
        assert_eq!(payment.amount_rials(), 17_000);
        assert_eq!(payment.year_digit(), 7);
        assert_eq!(payment.period(), "01");
        assert_eq!(check.barcode().unwrap(), "77483178001420000001770160");
    }

    #[test]
    fn a_payment_id_of_another_bill_does_not_match() {
        // 1770160 with its last digit changed fails its own pair check, not its own check digit.
        let check = inspect_bill("7748317800142", "1770161");
        assert!(check.payment.is_ok());
        assert_eq!(check.pair_matches, Some(false));
        assert!(!check.is_valid());
        assert_eq!(check.barcode(), None);
    }

    #[test]
    fn issued_bills_read_back() {
        let (bill, payment) =
            issue_bill(77483178, 1, BillServiceType::FixedTelephone, 17_000, 7, 1).unwrap();
        assert_eq!(
            (bill.as_str(), payment.as_str()),
            ("7748317800142", "1770160")
        );
        let (bill, payment) =
            issue_bill(1234567, 22, BillServiceType::Water, 1_250_000, 4, 8).unwrap();
        let check = inspect_bill(bill.as_str(), payment.as_str());
        assert!(check.is_valid(), "{check:?}");
        assert_eq!(bill.service_type(), Some(BillServiceType::Water));
        assert_eq!(bill.company_code(), "022");
        assert_eq!(payment.amount_rials(), 1_250_000);
        assert_eq!((payment.year_digit(), payment.period()), (4, "08"));
        assert!(issue_bill(1, 1, BillServiceType::Gas, 999, 4, 1).is_none());
        assert!(issue_bill(1, 1, BillServiceType::Gas, 1500, 4, 1).is_none());
        assert!(issue_bill(1, 1, BillServiceType::Gas, 1000, 4, 0).is_none());
    }

    #[test]
    fn a_barcode_carries_both_ids() {
        let check = inspect_bill("7748317800142", "1770160");
        let barcode = check.barcode().unwrap();
        assert_eq!(
            split_barcode(&barcode),
            Some(("7748317800142".into(), "1770160".into()))
        );
        assert_eq!(
            split_barcode("۷۷۴۸۳۱۷۸۰۰۱۴۲ ۰۰۰۰۰۰۱۷۷۰۱۶۰"),
            Some(("7748317800142".into(), "1770160".into()))
        );
        assert_eq!(split_barcode("7748317800142"), None);
        assert_eq!(split_barcode("7748317800142000000177016x"), None);
        assert_eq!(split_barcode(""), None);
    }

    #[test]
    fn says_what_is_wrong() {
        assert_eq!(BillId::parse("7748317800143").unwrap_err().code, "checksum");
        assert_eq!(BillId::parse("12345").unwrap_err().code, "wrong_length");
        // Check digit right (m11 of 1234567 is 4), but service type 7 is not in use.
        assert_eq!(
            BillId::parse("12345674").unwrap_err().code,
            "unknown_service_type"
        );
        assert_eq!(PaymentId::parse("1770150").unwrap_err().code, "checksum");
        let check = inspect_bill("", "1770160");
        assert_eq!(check.bill.unwrap_err().code, "empty");
        assert_eq!(check.pair_matches, None);
    }
}
