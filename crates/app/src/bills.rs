//! Paying a utility or fine bill at a counter: a payment, not an application. The bill ID and
//! payment ID (or the 26-digit barcode) are checked and described by the Persian core; a bill
//! already paid is refused before any money is taken (and again by the database, for two
//! counters at the same instant); the money goes from the operator's till to the utility
//! company's account, and the company sees what was paid for its bills.

use chrono::{DateTime, Utc};
use pishkhan_domain::Problem;
use pishkhan_domain::id::{BillServiceType, inspect_bill, split_barcode};
use pishkhan_domain::identity::{Role, Scope};
use pishkhan_domain::ledger::{Account, Entry};
use pishkhan_domain::payment::Method;
use pishkhan_store::{NewLedgerEntry, NewPayment, PaymentRecord, StoreError};
use serde_json::json;

use crate::App;
use crate::payments::{
    PaymentError, audit, counter_reference, payment_number, refused, write_error,
};
use crate::policy::Principal;

/// The most bill payments a company's list shows.
pub const COMPANY_LIST_LIMIT: i64 = 500;

/// A bill as the counter reads it before taking the money.
#[derive(Debug, Clone)]
pub struct BillToPay {
    pub bill_id: String,
    pub payment_id: String,
    pub service: BillServiceType,
    /// The company's three-digit code in the bill ID.
    pub company_code: String,
    pub file_number: String,
    /// The period (two digits) and the last digit of its year, from the payment ID.
    pub period: String,
    pub year_digit: u8,
    pub rials: i64,
    /// Whose account the money goes to: the province's agency for this kind of bill when
    /// Pishkhan knows one, else `{service}-{company code}`.
    pub payee: String,
    pub payee_name: String,
    /// The payment that paid it already.
    pub paid: Option<PaymentRecord>,
}

impl BillToPay {
    /// A payment of this bill, by `method`, in `state`; who took it and how are the caller's.
    pub(crate) fn payment(
        &self,
        number: &str,
        method: Method,
        state: &str,
        now: DateTime<Utc>,
    ) -> NewPayment {
        NewPayment {
            number: number.to_owned(),
            purpose: "bill".into(),
            application: None,
            bill_id: Some(self.bill_id.clone()),
            payment_id: Some(self.payment_id.clone()),
            payee: self.payee.clone(),
            rials: self.rials,
            lines: json!([{
                "title": self.title_fa(), "rials": self.rials, "centre_share": 0,
                "legal_basis": null,
            }])
            .to_string(),
            method: method.code().into(),
            state: state.into(),
            provider: None,
            terminal: None,
            token: None,
            reference: None,
            centre: None,
            operator: None,
            payer: None,
            created_at: now,
            till_day: None,
        }
    }

    /// The receipt's line: what the bill is for.
    pub fn title_fa(&self) -> String {
        pishkhan_domain::text::to_persian_digits(&format!(
            "قبض {} — پرونده {} — دورهٔ {}",
            self.service.name_fa(),
            self.file_number,
            self.period
        ))
    }
}

/// The demo's agency key of each kind of bill ("{province}-{key}" is the agency's code).
fn agency_key(service: BillServiceType) -> Option<&'static str> {
    Some(match service {
        BillServiceType::Water => "water",
        BillServiceType::Electricity => "electricity",
        BillServiceType::Gas => "gas",
        BillServiceType::FixedTelephone => "telecom",
        BillServiceType::Municipality => "municipality",
        BillServiceType::Tax => "tax",
        BillServiceType::TrafficFines => "traffic-police",
        BillServiceType::Mobile => return None,
    })
}

/// The name of a payment's payee as people read it: the agency's, or for a company Pishkhan
/// has no agency for (`{service}-{company code}`), «شرکت گاز (کد ۰۳۱)».
pub fn payee_name(directory: &pishkhan_store::OrgDirectory, payee: &str) -> String {
    if let Some(agency) = directory.agency(payee) {
        return agency.name_fa.clone();
    }
    match payee
        .rsplit_once('-')
        .and_then(|(service, company)| Some((BillServiceType::from_code(service)?, company)))
    {
        Some((service, company)) => pishkhan_domain::text::to_persian_digits(&format!(
            "شرکت {} (کد {company})",
            service.name_fa()
        )),
        None => payee.to_owned(),
    }
}

/// The person's input: a barcode in the first box (second empty), or the two IDs.
fn ids_of(bill_id: &str, payment_id: &str) -> (String, String) {
    if payment_id.trim().is_empty()
        && let Some(pair) = split_barcode(bill_id)
    {
        return pair;
    }
    (bill_id.to_owned(), payment_id.to_owned())
}

fn operator_centre(principal: &Principal, centre: &str) -> Result<String, PaymentError> {
    let holds = principal
        .scopes_of(Role::Operator)
        .into_iter()
        .any(|s| *s == Scope::Centre(centre.to_owned()));
    if !holds {
        return Err(refused(
            "payment_counter_only",
            "دریافت پول قبض با متصدی همان دفتر پیشخوان است.",
            "Taking a bill's money is for an operator of this centre.",
        ));
    }
    Ok(centre.to_owned())
}

impl App {
    /// Reads a bill at `centre`'s counter: checked, described, and whether it is paid already.
    pub async fn read_bill(
        &self,
        centre: &str,
        bill_id: &str,
        payment_id: &str,
    ) -> Result<BillToPay, PaymentError> {
        let directory = self.org_directory().await?;
        let province = directory.centre(centre).map(|c| c.province.clone());
        self.read_bill_in(&directory, province, bill_id, payment_id)
            .await
    }

    /// Reads a bill a person pays online: as at a counter, in the installation's province.
    pub async fn read_bill_online(
        &self,
        bill_id: &str,
        payment_id: &str,
    ) -> Result<BillToPay, PaymentError> {
        let directory = self.org_directory().await?;
        let province = directory.sole_province().map(str::to_owned);
        self.read_bill_in(&directory, province, bill_id, payment_id)
            .await
    }

    /// Checks and describes a bill; its payee is `province`'s agency for its kind when there is
    /// one.
    async fn read_bill_in(
        &self,
        directory: &pishkhan_store::OrgDirectory,
        province: Option<String>,
        bill_id: &str,
        payment_id: &str,
    ) -> Result<BillToPay, PaymentError> {
        let (bill_id, payment_id) = ids_of(bill_id, payment_id);
        let check = inspect_bill(&bill_id, &payment_id);
        let bill = check.bill.clone().map_err(PaymentError::Refused)?;
        let payment = check.payment.clone().map_err(PaymentError::Refused)?;
        if !check.is_valid() {
            return Err(PaymentError::Refused(Problem::new(
                "bill_pair_mismatch",
                "این شناسهٔ پرداخت از آنِ این شناسهٔ قبض نیست؛ هر دو را دوباره از روی همان قبض بخوانید.",
                "This payment ID does not belong to this bill ID; read both again from the same bill.",
            )));
        }
        let Some(service) = bill.service_type() else {
            return Err(refused(
                "unknown_service_type",
                "نوع خدمت این قبض شناخته نیست.",
                "This bill's service type is unknown.",
            ));
        };
        let rials = payment.amount_rials();
        if rials <= 0 {
            return Err(refused(
                "bill_nothing_owed",
                "مبلغ این قبض صفر است و پرداختی ندارد.",
                "This bill's amount is zero: nothing to pay.",
            ));
        }
        let agency = agency_key(service)
            .zip(province)
            .map(|(key, province)| format!("{province}-{key}"))
            .and_then(|code| directory.agency(&code).cloned());
        let payee = match agency {
            Some(agency) => agency.code,
            None => format!("{}-{}", service.code(), bill.company_code()),
        };
        let payee_name = payee_name(directory, &payee);
        let paid = self
            .store()
            .bill_payment(bill.as_str(), payment.as_str())
            .await?;
        Ok(BillToPay {
            bill_id: bill.as_str().to_owned(),
            payment_id: payment.as_str().to_owned(),
            service,
            company_code: bill.company_code().to_owned(),
            file_number: bill.file_number().to_owned(),
            period: payment.period().to_owned(),
            year_digit: payment.year_digit(),
            rials,
            payee,
            payee_name,
            paid,
        })
    }

    /// An operator of `centre` takes a bill's money in cash or by card: the payment, its ledger
    /// entry (till → company) and the audit line, in one transaction. A bill paid already is
    /// refused, saying when and where.
    #[allow(clippy::too_many_arguments)]
    pub async fn pay_bill_at_counter(
        &self,
        principal: &Principal,
        source: &str,
        centre: &str,
        bill_id: &str,
        payment_id: &str,
        method: Method,
        reference: &str,
        now: DateTime<Utc>,
    ) -> Result<PaymentRecord, PaymentError> {
        let centre = operator_centre(principal, centre)?;
        let reference = counter_reference(method, reference)?;
        let bill = self.read_bill(&centre, bill_id, payment_id).await?;
        if let Some(paid) = &bill.paid {
            return Err(paid_already(paid));
        }
        let operator = principal.actor_id();
        self.till_open(&centre, &operator, now).await?;
        let number = payment_number();
        let entry = Entry::transfer(
            Account::Company(bill.payee.clone()),
            Account::Till(centre.clone(), operator.clone()),
            bill.rials,
        )
        .map_err(|e| StoreError::Corrupt(format!("{number}: {e}")))?;
        let payment = NewPayment {
            provider: reference.as_ref().map(|_| format!("card:{centre}")),
            reference: reference.clone(),
            centre: Some(centre.clone()),
            operator: Some(operator.clone()),
            till_day: Some(pishkhan_domain::JalaliDate::in_iran(now).format_numeric()),
            ..bill.payment(&number, method, "paid", now)
        };
        let ledger = NewLedgerEntry {
            kind: "payment".into(),
            reference: number.clone(),
            memo: format!(
                "{} در پیشخوان برای قبض {} / {}",
                method.name_fa(),
                bill.bill_id,
                bill.payment_id
            ),
            key: Some(format!("payment:{number}")),
            reverses: None,
            posted_by: operator.clone(),
            posted_at: now,
            entry,
        };
        let audit_line = audit(
            &operator,
            source,
            "payment.bill",
            &number,
            now,
            json!({
                "bill_id": bill.bill_id, "payment_id": bill.payment_id, "rials": bill.rials,
                "method": method.code(), "reference": reference, "payee": bill.payee,
            }),
        );
        self.store()
            .insert_payment(&payment, Some(&ledger), &audit_line)
            .await
            .map_err(write_error)?;
        self.store()
            .payment(&number)
            .await?
            .ok_or(PaymentError::NotFound)
    }

    /// A payment taken at one of this person's counters (its receipt), or `NotFound`.
    pub async fn counter_payment(
        &self,
        principal: &Principal,
        number: &str,
    ) -> Result<PaymentRecord, PaymentError> {
        let centres = crate::policy::counter_centres(principal);
        self.store()
            .payment(number)
            .await?
            .filter(|p| p.centre.as_ref().is_some_and(|c| centres.contains(c)))
            .ok_or(PaymentError::NotFound)
    }

    /// The bills paid to `agency` through Pishkhan, newest first, for its clerks and admins.
    pub async fn bills_paid_to(
        &self,
        principal: &Principal,
        agency: &str,
    ) -> Result<Vec<PaymentRecord>, PaymentError> {
        if !crate::policy::works_at_agency(principal, crate::policy::APPLICATION_WORKERS, agency) {
            return Err(PaymentError::NotFound);
        }
        Ok(self
            .store()
            .bill_payments_to(agency, COMPANY_LIST_LIMIT)
            .await?)
    }
}

/// The most bill payments a person's own list shows.
pub const MINE_LIST_LIMIT: i64 = 100;

impl App {
    /// A citizen starts paying a bill online: the bill is read and checked as at a counter, a
    /// bill paid already is refused before the bank is asked, and the payment is recorded
    /// pending with the gateway's token. Answers the bank page's address.
    #[tracing::instrument(skip_all)]
    pub async fn start_online_bill_payment(
        &self,
        principal: &Principal,
        source: &str,
        bill_id: &str,
        payment_id: &str,
        now: DateTime<Utc>,
    ) -> Result<String, PaymentError> {
        if principal.citizen().is_none() {
            return Err(refused(
                "payment_citizen_only",
                "پرداخت اینترنتی قبض با خود شهروند است؛ در دفتر، پول قبض را نقدی یا با کارت‌خوان بگیرید.",
                "Paying a bill online is the citizen's own; at a counter take it in cash or by card.",
            ));
        }
        let Some(settings) = self.config().payment.clone() else {
            return Err(refused(
                "payment_online_off",
                "پرداخت اینترنتی در این سامانه راه‌اندازی نشده است؛ قبض را در یکی از دفترهای پیشخوان بپردازید.",
                "Online payment is not set up here; pay the bill at a service centre.",
            ));
        };
        let bill = self.read_bill_online(bill_id, payment_id).await?;
        if let Some(paid) = &bill.paid {
            return Err(paid_already(paid));
        }
        let number = payment_number();
        let token = crate::payments::ask_token(&settings, self, &number, bill.rials).await?;
        let payer = principal.actor_id();
        let payment = NewPayment {
            provider: Some(crate::payments::GATEWAY.into()),
            terminal: Some(settings.terminal.clone()),
            token: Some(token.clone()),
            payer: Some(payer.clone()),
            ..bill.payment(&number, Method::Online, "pending", now)
        };
        let entry = audit(
            &payer,
            source,
            "payment.asked",
            &number,
            now,
            json!({
                "bill_id": bill.bill_id, "payment_id": bill.payment_id, "rials": bill.rials,
                "method": "online", "payee": bill.payee,
            }),
        );
        self.store()
            .insert_payment(&payment, None, &entry)
            .await
            .map_err(write_error)?;
        Ok(format!("{}/pay/{token}", settings.url))
    }

    /// The bills this person paid or tried to pay online, newest first.
    pub async fn my_bill_payments(
        &self,
        principal: &Principal,
    ) -> Result<Vec<PaymentRecord>, PaymentError> {
        Ok(self
            .store()
            .bill_payments_of_payer(&principal.actor_id(), MINE_LIST_LIMIT)
            .await?)
    }

    /// A payment this person made online (its receipt), or `NotFound`.
    pub async fn my_payment(
        &self,
        principal: &Principal,
        number: &str,
    ) -> Result<PaymentRecord, PaymentError> {
        let me = principal.actor_id();
        self.store()
            .payment(number)
            .await?
            .filter(|p| p.payer.as_deref() == Some(me.as_str()))
            .ok_or(PaymentError::NotFound)
    }
}

/// "Paid already", with when and by which way, so the person knows it is not lost.
fn paid_already(paid: &PaymentRecord) -> PaymentError {
    let when = paid
        .paid_at
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .map(|at| {
            let local = pishkhan_domain::jalali::iran_local_time(at);
            let date = pishkhan_domain::JalaliDate::from_gregorian(local.date());
            pishkhan_domain::text::to_persian_digits(&format!(
                "{} ساعت {}",
                date.format_long_fa(),
                local.format("%H:%M")
            ))
        })
        .unwrap_or_default();
    refused(
        "bill_paid",
        format!(
            "این قبض پیش‌تر پرداخت شده است ({when}، پرداخت شمارهٔ {}) و دوباره پول گرفته نمی‌شود.",
            paid.number
        ),
        "This bill is paid already; no money is taken twice.",
    )
}

impl App {
    /// The receipt of a payment taken at one of this person's counters, as a PDF.
    pub async fn counter_payment_pdf(
        &self,
        principal: &Principal,
        number: &str,
    ) -> Result<Vec<u8>, PaymentError> {
        let payment = self.counter_payment(principal, number).await?;
        self.payment_receipt_pdf(&payment).await
    }

    /// The receipt of a payment this person made online, as a PDF: only once it is paid.
    pub async fn my_payment_pdf(
        &self,
        principal: &Principal,
        number: &str,
    ) -> Result<Vec<u8>, PaymentError> {
        let payment = self.my_payment(principal, number).await?;
        if !matches!(payment.state.as_str(), "paid" | "settled") {
            return Err(PaymentError::NotFound);
        }
        self.payment_receipt_pdf(&payment).await
    }

    async fn payment_receipt_pdf(&self, payment: &PaymentRecord) -> Result<Vec<u8>, PaymentError> {
        use pishkhan_domain::text::to_persian_digits;
        let directory = self.org_directory().await?;
        let centre_name = payment
            .centre
            .as_deref()
            .and_then(|c| directory.centre(c))
            .map(|c| c.name_fa.clone())
            .unwrap_or_else(|| "درگاه پرداخت اینترنتی پیشخوان".to_owned());
        let payee = payee_name(&directory, &payment.payee);
        let isolated = |text: &str| format!("\u{2066}{}\u{2069}", to_persian_digits(text));
        let mut about: Vec<(String, String)> = crate::payments::bill_of_payment(payment)
            .lines
            .iter()
            .map(|l| {
                (
                    "بابت".to_owned(),
                    format!(
                        "{} — {}",
                        to_persian_digits(&l.title),
                        pishkhan_domain::Rials(l.rials)
                            .format_rials(pishkhan_domain::Language::Persian)
                    ),
                )
            })
            .collect();
        if let Some(code) = &payment.application {
            about.push(("پرونده".into(), isolated(code)));
        }
        if let (Some(bill), Some(pay)) = (&payment.bill_id, &payment.payment_id) {
            about.push(("شناسهٔ قبض".into(), isolated(bill)));
            about.push(("شناسهٔ پرداخت".into(), isolated(pay)));
        }
        about.push(("دریافت‌کننده".into(), payee));
        let method = Method::parse(&payment.method).map_or("", |m| m.name_fa());
        about.push((
            "روش".into(),
            match &payment.reference {
                Some(r) => format!("{method} — مرجع {}", isolated(r)),
                None => method.to_owned(),
            },
        ));
        let paid_on = payment
            .paid_at
            .and_then(DateTime::<Utc>::from_timestamp_millis)
            .map(|at| {
                let local = pishkhan_domain::jalali::iran_local_time(at);
                to_persian_digits(&format!(
                    "{} ساعت {}",
                    pishkhan_domain::JalaliDate::from_gregorian(local.date()).format_long_fa(),
                    local.format("%H:%M")
                ))
            })
            .unwrap_or_default();
        let data = pishkhan_render::payment_receipt_data(&pishkhan_render::PaymentReceiptPrint {
            number: &payment.number,
            centre_name: &centre_name,
            at_counter: payment.centre.is_some(),
            about: &about,
            total_rials: payment.rials,
            paid_on: &paid_on,
        });
        tokio::task::spawn_blocking(move || {
            pishkhan_render::render(pishkhan_render::Template::PaymentReceipt, &data)
        })
        .await
        .map_err(|e| PaymentError::Store(StoreError::Corrupt(format!("typesetting: {e}"))))?
        .map_err(|e| PaymentError::Store(StoreError::Corrupt(format!("typesetting: {e}"))))
    }
}
