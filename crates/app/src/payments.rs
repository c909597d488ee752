//! Paying an application's fee bill: online through a bank gateway's redirect flow (token → the
//! bank's page → callback → verify → settle, or reverse), or at a counter in cash or by card.
//! Pishkhan counts nothing paid that it has not verified with the bank itself; a payment's
//! state, its ledger entry and the application's step out of its paying state are written in one
//! transaction (decision 0017).

use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use pishkhan_domain::Problem;
use pishkhan_domain::catalog::ServiceCard;
use pishkhan_domain::identity::Role;
use pishkhan_domain::ledger::{Account, BillLine, FeeBill};
use pishkhan_domain::payment::{
    Confirmation, Method, PaymentRequest, Refusal, check_confirmation, is_reference,
};
use pishkhan_store::{
    ApplicationRecord, NewAuditEntry, NewLedgerEntry, NewPayment, PaymentChange, PaymentRecord,
    PaymentWriteError, StoreError,
};
use serde_json::{Value, json};

use crate::App;
use crate::applications::ApplicationError;
use crate::config::PaymentSettings;
use crate::policy::{Principal, counter_centres};

/// Who moves an application on when its bill is paid, in the audit log and its history.
pub const PAYMENTS_ACTOR: &str = "system:payments";

/// The provider name online payments are recorded under (one gateway per installation).
pub const GATEWAY: &str = "gateway";

/// A pending online payment this old is asked about by the sweep (its callback came late or
/// never).
pub const SWEEP_AFTER: TimeDelta = TimeDelta::minutes(15);

/// A pending online payment the bank still calls pending this long after it was asked is given
/// up: the person left the bank's page. Paid after that, it is reversed.
pub const ABANDONED_AFTER: TimeDelta = TimeDelta::hours(2);

/// Why a payment could not be started or taken.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// No such application (or payment) this person may see.
    #[error("not found")]
    NotFound,
    /// Refused, with what to do.
    #[error("{}", .0.code)]
    Refused(Problem),
    /// The bank did not answer, or answered what it should not.
    #[error("the payment gateway: {0}")]
    Gateway(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ApplicationError> for PaymentError {
    fn from(error: ApplicationError) -> Self {
        match error {
            ApplicationError::NotFound => PaymentError::NotFound,
            ApplicationError::Store(e) => PaymentError::Store(e),
            ApplicationError::Invalid(mut problems) if !problems.is_empty() => {
                PaymentError::Refused(problems.remove(0))
            }
            other => PaymentError::Store(StoreError::Corrupt(other.to_string())),
        }
    }
}

pub(crate) fn refused(code: &'static str, fa: impl Into<String>, en: &str) -> PaymentError {
    PaymentError::Refused(Problem::new(code, fa, en))
}

/// What the bank says of one payment.
#[derive(Debug, Clone)]
struct BankSays {
    status: String,
    confirmation: Confirmation,
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(3))
            .build()
            .unwrap_or_default()
    })
}

/// The gateway's API, as the redirect flow Iranian banks offer: every call names the terminal
/// and its key.
pub(crate) struct Gateway<'a>(pub(crate) &'a PaymentSettings);

impl Gateway<'_> {
    async fn call(&self, path: &str, mut body: Value) -> Result<(u16, Value), PaymentError> {
        body["terminal"] = json!(self.0.terminal);
        body["key"] = json!(self.0.key.expose());
        let reply = client()
            .post(format!("{}{path}", self.0.url))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| PaymentError::Gateway(format!("{path}: {}", e.without_url())))?;
        let status = reply.status().as_u16();
        let text = reply.text().await.unwrap_or_default();
        let body = serde_json::from_str::<Value>(&text).unwrap_or(Value::Null);
        Ok((status, body))
    }

    async fn token(&self, order: &str, rials: i64, callback: &str) -> Result<String, PaymentError> {
        let (status, body) = self
            .call(
                "/api/token",
                json!({ "amount": rials, "order": order, "callback": callback }),
            )
            .await?;
        match body["token"].as_str() {
            Some(token) if status == 200 && !token.is_empty() && token.len() <= 100 => {
                Ok(token.to_owned())
            }
            _ => Err(PaymentError::Gateway(format!(
                "no token ({status}: {})",
                body["error"].as_str().unwrap_or("")
            ))),
        }
    }

    async fn verify(&self, token: &str) -> Result<BankSays, PaymentError> {
        let (status, body) = self.call("/api/verify", json!({ "token": token })).await?;
        if status != 200 {
            return Err(PaymentError::Gateway(format!("verify answered {status}")));
        }
        let text = |k: &str| body[k].as_str().unwrap_or("").to_owned();
        let status = text("status");
        Ok(BankSays {
            confirmation: Confirmation {
                token: text("token"),
                terminal: text("terminal"),
                rials: body["amount"].as_i64().unwrap_or(0),
                reference: text("reference"),
                paid: matches!(status.as_str(), "paid" | "settled"),
            },
            status,
        })
    }

    /// Gives back `rials` of a settled payment to the card it came from: the refund's reference
    /// at the bank, or the bank's refusal (what it says is left, say).
    pub(crate) async fn refund(
        &self,
        token: &str,
        rials: i64,
    ) -> Result<Result<String, String>, PaymentError> {
        let (status, body) = self
            .call("/api/refund", json!({ "token": token, "amount": rials }))
            .await?;
        match (status, body["refund"].as_str()) {
            (200, Some(reference)) if !reference.is_empty() && reference.len() <= 100 => {
                Ok(Ok(reference.to_owned()))
            }
            (409, _) => Ok(Err(body["message"].as_str().unwrap_or("").to_owned())),
            _ => Err(PaymentError::Gateway(format!("refund answered {status}"))),
        }
    }

    /// Settles (`/api/settle`) or reverses (`/api/reverse`): true when the bank says it did.
    async fn finish(&self, path: &str, token: &str) -> Result<bool, PaymentError> {
        let (status, _) = self.call(path, json!({ "token": token })).await?;
        Ok(status == 200)
    }
}

/// A pending online payment moved to paid as the bank said: its reference, its entry (keyed by
/// the payment, so it posts once), the application's step when paying moves it on, the audit line.
fn paid_as_said(
    payment: &PaymentRecord,
    said: &BankSays,
    entry: pishkhan_domain::ledger::Entry,
    memo: String,
    step: Option<pishkhan_store::Transition>,
    source: &str,
    now: DateTime<Utc>,
) -> PaymentChange {
    PaymentChange {
        number: payment.number.clone(),
        from: "pending".into(),
        to: "paid".into(),
        reference: Some(said.confirmation.reference.clone()),
        note: None,
        at: now,
        ledger: Some(NewLedgerEntry {
            kind: "payment".into(),
            reference: payment.number.clone(),
            memo,
            key: Some(format!("payment:{}", payment.number)),
            reverses: None,
            posted_by: PAYMENTS_ACTOR.into(),
            posted_at: now,
            entry,
        }),
        transition: step,
        audit: audit(
            PAYMENTS_ACTOR,
            source,
            "payment.paid",
            &payment.number,
            now,
            json!({ "reference": said.confirmation.reference, "rials": payment.rials }),
        ),
    }
}

/// Asks the gateway for a token for payment `number` of `rials`, the bank to send the person
/// back to this installation's callback.
pub(crate) async fn ask_token(
    settings: &PaymentSettings,
    app: &App,
    number: &str,
    rials: i64,
) -> Result<String, PaymentError> {
    let callback = format!("{}/payments/callback", app.config().public_origin());
    Gateway(settings).token(number, rials, &callback).await
}

/// An application's bill at its paying state, and what was done about it so far.
#[derive(Debug, Clone)]
pub struct OwedBill {
    pub bill: FeeBill,
    /// Its payments, oldest first (pending, failed …).
    pub payments: Vec<PaymentRecord>,
}

/// The bill's lines as a payment keeps them (JSON), so the entry posted when it is paid is the
/// bill that was asked, not one worked out again later.
fn lines_json(bill: &FeeBill) -> String {
    Value::Array(
        bill.lines
            .iter()
            .map(|l| {
                json!({
                    "title": l.title, "rials": l.rials, "centre_share": l.centre_share,
                    "legal_basis": l.legal_basis,
                })
            })
            .collect(),
    )
    .to_string()
}

/// The bill a payment was asked for, from its row.
pub fn bill_of_payment(payment: &PaymentRecord) -> FeeBill {
    let lines: Vec<Value> = serde_json::from_str(&payment.lines).unwrap_or_default();
    FeeBill {
        agency: payment.payee.clone(),
        centre: payment.centre.clone(),
        lines: lines
            .iter()
            .map(|l| BillLine {
                title: l["title"].as_str().unwrap_or("").to_owned(),
                rials: l["rials"].as_i64().unwrap_or(0),
                centre_share: l["centre_share"].as_i64().unwrap_or(0),
                legal_basis: l["legal_basis"].as_str().map(str::to_owned),
            })
            .collect(),
    }
}

/// The card terminal's reference a counter payment keeps: none for cash, a well-formed one for a
/// card; online is not a counter's method.
pub(crate) fn counter_reference(
    method: Method,
    reference: &str,
) -> Result<Option<String>, PaymentError> {
    let reference = reference.trim();
    match method {
        Method::Cash => Ok(None),
        Method::Card if is_reference(reference) => Ok(Some(reference.to_owned())),
        Method::Card => Err(refused(
            "payment_bad_reference",
            "شمارهٔ مرجع کارت‌خوان را همان‌طور که روی رسید دستگاه چاپ شده بنویسید (۶ تا ۴۰ رقم یا حرف لاتین).",
            "Write the card terminal's reference as printed on its slip (6 to 40 digits or letters).",
        )),
        Method::Online => Err(refused(
            "payment_bad_method",
            "در پیشخوان، روش پرداخت نقدی یا کارت‌خوان است.",
            "At a counter the method is cash or card.",
        )),
    }
}

/// A fresh payment number: `PAY-` and 16 hex digits.
pub(crate) fn payment_number() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("PAY-{}", &id[..16].to_uppercase())
}

pub(crate) fn audit(
    actor: &str,
    source: &str,
    action: &str,
    number: &str,
    at: DateTime<Utc>,
    details: Value,
) -> NewAuditEntry {
    NewAuditEntry {
        at,
        actor: actor.to_owned(),
        action: action.to_owned(),
        target_kind: "payment".into(),
        target_id: number.to_owned(),
        source: source.to_owned(),
        details: details.to_string(),
    }
}

impl App {
    /// Payment `number` of application `code`, if it is one of its payments.
    pub async fn payment_of_application(
        &self,
        code: &str,
        number: &str,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        Ok(self
            .store()
            .payment(number)
            .await?
            .filter(|p| p.application.as_deref() == Some(code)))
    }

    /// Every payment of application `code`, oldest first: for a page that has already checked
    /// that its reader may see the application.
    pub async fn payments_of_application(
        &self,
        code: &str,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        self.store().payments_of_application(code).await
    }

    /// Is online payment configured (a gateway, its terminal and key)?
    pub fn pays_online(&self) -> bool {
        self.config().payment.is_some()
    }

    /// What an application owes where it stands: `FeeBill::assessed` with the amount an
    /// earlier step of it wrote down (the latest value whose code ends in `_rials`: a building
    /// permit's fee, a list of fines, a renovation charge), else its card's fees.
    pub(crate) async fn fee_bill(
        &self,
        record: &ApplicationRecord,
        card: &ServiceCard,
    ) -> Result<FeeBill, StoreError> {
        let events = self.store().application_events(&record.code).await?;
        let assessed = events.iter().rev().find_map(|event| {
            let fields: Vec<(String, String)> =
                serde_json::from_str(event.fields.as_deref()?).ok()?;
            fields
                .into_iter()
                .rev()
                .find(|(code, _)| code.ends_with("_rials"))
                .map(|(_, value)| value)
        });
        Ok(FeeBill::assessed(
            card,
            record.centre.as_deref(),
            assessed.as_deref(),
        ))
    }

    /// The bill an application owes now: `None` unless it stands in a paying state with
    /// something to pay.
    pub async fn owed_bill(
        &self,
        record: &ApplicationRecord,
    ) -> Result<Option<OwedBill>, StoreError> {
        let card = self
            .card_at(&record.service, record.service_version)
            .await?;
        if !card.workflow().state(&record.state).is_some_and(|s| s.pays) {
            return Ok(None);
        }
        let bill = self.fee_bill(record, &card).await?;
        if bill.is_empty() {
            return Ok(None);
        }
        let payments = self.store().payments_of_application(&record.code).await?;
        Ok(Some(OwedBill { bill, payments }))
    }

    /// The application `code` as `principal` may pay it: theirs (citizen) or filed at their
    /// centre (operator), standing in a paying state with something owed.
    async fn payable(
        &self,
        principal: &Principal,
        code: &str,
    ) -> Result<(ApplicationRecord, Role, FeeBill), PaymentError> {
        let record = self
            .store()
            .application(code)
            .await?
            .ok_or(PaymentError::NotFound)?;
        let role = self
            .acting_role(principal, &record)
            .ok_or(PaymentError::NotFound)?;
        let owed = self.owed_bill(&record).await?.ok_or_else(|| {
            refused(
                "payment_not_owed",
                "این پرونده اکنون پرداختی ندارد: یا پرداخت شده، یا هنوز به مرحلهٔ پرداخت نرسیده است.",
                "Nothing is owed on this application now: paid already, or not yet at its payment step.",
            )
        })?;
        Ok((record, role, owed.bill))
    }

    /// Starts paying an application's bill online: asks the gateway for a token (the order is
    /// the payment's number) and records the payment as pending. Answers the bank page's
    /// address, where the person is sent.
    #[tracing::instrument(skip_all, fields(code = %code))]
    pub async fn start_online_payment(
        &self,
        principal: &Principal,
        source: &str,
        code: &str,
        now: DateTime<Utc>,
    ) -> Result<String, PaymentError> {
        let Some(settings) = self.config().payment.clone() else {
            return Err(refused(
                "payment_online_off",
                "پرداخت اینترنتی در این سامانه راه‌اندازی نشده است؛ هزینه را در یکی از دفترهای پیشخوان بپردازید.",
                "Online payment is not set up here; pay at a service centre.",
            ));
        };
        let (record, role, bill) = self.payable(principal, code).await?;
        if role != Role::Citizen {
            return Err(refused(
                "payment_citizen_only",
                "پرداخت اینترنتی با خود متقاضی است؛ در دفتر، هزینه را نقدی یا با کارت‌خوان بگیرید.",
                "Online payment is the applicant's own; at a counter take it in cash or by card.",
            ));
        }
        let number = payment_number();
        let token = ask_token(&settings, self, &number, bill.total()).await?;
        let payment = NewPayment {
            number: number.clone(),
            purpose: "fee".into(),
            application: Some(record.code.clone()),
            bill_id: None,
            payment_id: None,
            payee: bill.agency.clone(),
            rials: bill.total(),
            lines: lines_json(&bill),
            method: Method::Online.code().into(),
            state: "pending".into(),
            provider: Some(GATEWAY.into()),
            terminal: Some(settings.terminal.clone()),
            token: Some(token.clone()),
            reference: None,
            centre: record.centre.clone(),
            operator: None,
            payer: Some(principal.actor_id()),
            created_at: now,
            till_day: None,
        };
        let entry = audit(
            &principal.actor_id(),
            source,
            "payment.asked",
            &number,
            now,
            json!({ "application": record.code, "rials": bill.total(), "method": "online" }),
        );
        self.store()
            .insert_payment(&payment, None, &entry)
            .await
            .map_err(write_error)?;
        Ok(format!("{}/pay/{token}", settings.url))
    }

    /// The bank sent the person back (`token`, from a form anyone could post): Pishkhan looks
    /// the payment up and asks the bank itself what became of it. Told twice, it answers the
    /// payment as it is. Answers the payment after, and why it was refused, if it was.
    #[tracing::instrument(skip_all)]
    pub async fn payment_returned(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<(PaymentRecord, Option<Refusal>), PaymentError> {
        if token.is_empty() || token.len() > 100 {
            return Err(PaymentError::NotFound);
        }
        let payment = self
            .store()
            .payment_by_token(token)
            .await?
            .ok_or(PaymentError::NotFound)?;
        self.conclude(payment, "callback", now).await
    }

    /// Asks the bank about one online payment and does what its answer means: paid and
    /// matching → paid, the application moved on, then settled; declined or cancelled → failed;
    /// paid but refused (wrong amount, reference used, the application already moved on) →
    /// reversed with the bank and failed. Anything else is left as it is.
    async fn conclude(
        &self,
        payment: PaymentRecord,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<(PaymentRecord, Option<Refusal>), PaymentError> {
        let Some(settings) = self.config().payment.clone() else {
            return Ok((payment, None));
        };
        let gateway = Gateway(&settings);
        let token = payment.token.clone().unwrap_or_default();
        match payment.state.as_str() {
            "pending" => {}
            // Paid, not yet settled (the settle call failed before): settle now.
            "paid" => {
                self.settle(&gateway, &payment, source, now).await?;
                return Ok((self.reread(&payment).await?, None));
            }
            // Ended: if the bank took money for it after all (paid after it was given up), give
            // it back.
            "failed" => {
                let said = gateway.verify(&token).await?;
                if said.status == "paid" {
                    gateway.finish("/api/reverse", &token).await?;
                }
                return Ok((payment, None));
            }
            _ => return Ok((payment, None)),
        }
        let said = gateway.verify(&token).await?;
        match said.status.as_str() {
            "paid" | "settled" => {}
            "declined" | "cancelled" | "reversed" => {
                let note = if said.status == "cancelled" {
                    "پرداخت در صفحهٔ بانک لغو شد."
                } else {
                    "بانک پرداخت را نپذیرفت."
                };
                self.fail(&payment, note, source, now).await?;
                return Ok((self.reread(&payment).await?, Some(Refusal::NotPaid)));
            }
            _ => {
                if now - DateTime::from_timestamp_millis(payment.created_at).unwrap_or(now)
                    > ABANDONED_AFTER
                {
                    self.fail(
                        &payment,
                        "پرداخت در صفحهٔ بانک انجام نشد و پس از دو ساعت کنار گذاشته شد.",
                        source,
                        now,
                    )
                    .await?;
                    return Ok((self.reread(&payment).await?, Some(Refusal::NotPaid)));
                }
                return Ok((payment, None));
            }
        }
        let asked = PaymentRequest {
            terminal: payment.terminal.clone().unwrap_or_default(),
            token: token.clone(),
            rials: payment.rials,
        };
        let used = match self
            .store()
            .payment_by_reference(GATEWAY, &said.confirmation.reference)
            .await?
        {
            Some(other) => other.number != payment.number,
            None => false,
        };
        if let Err(refusal) = check_confirmation(&asked, &said.confirmation, used) {
            let reversed = gateway.finish("/api/reverse", &token).await?;
            let mut note = refusal.message_fa();
            if !reversed {
                note.push_str(" (برگشت خودکار از بانک پذیرفته نشد؛ پیگیری در تطبیق روزانه.)");
            }
            tracing::warn!(payment = %payment.number, refusal = %refusal, "a payment was refused");
            self.fail(&payment, &note, source, now).await?;
            return Ok((self.reread(&payment).await?, Some(refusal)));
        }
        if payment.purpose == "bill" {
            return self
                .conclude_bill(&gateway, &payment, &asked, &said, source, now)
                .await;
        }
        // Paid as asked: the application moves on with it, in the same transaction.
        let application = match &payment.application {
            Some(code) => self.store().application(code).await?,
            None => None,
        };
        let step = match &application {
            Some(record) => {
                self.paid_step(record, PAYMENTS_ACTOR, source, &payment.number, now)
                    .await?
            }
            None => None,
        };
        let Some(step) = step else {
            // Nothing to move. If this very payment moved it (the callback twice at once: the
            // other concluded it between our reading the payment and the application), it is
            // paid now — the payment and the step commit together, and the application was read
            // first, so reading the payment again tells. Otherwise the application was paid by
            // another payment (another tab) or exempted meanwhile: give this one back.
            let now_is = self.reread(&payment).await?;
            if now_is.state != "pending" {
                return Ok((now_is, None));
            }
            gateway.finish("/api/reverse", &token).await?;
            self.fail(
                &payment,
                "این پرونده پیش‌تر پرداخت یا معاف شده بود؛ این پرداخت برگشت داده شد.",
                source,
                now,
            )
            .await?;
            return Ok((self.reread(&payment).await?, None));
        };
        let bill = bill_of_payment(&payment);
        let ledger = bill
            .payment_entry(Account::Provider(asked.terminal.clone()))
            .map_err(|e| StoreError::Corrupt(format!("{}: {e}", payment.number)))?;
        let memo = format!(
            "پرداخت اینترنتی پروندهٔ {}",
            payment.application.clone().unwrap_or_default()
        );
        let change = paid_as_said(&payment, &said, ledger, memo, Some(step), source, now);
        match self.store().change_payment(&change).await {
            Ok(()) => {}
            // Someone else concluded it (the callback twice, the sweep at the same moment):
            // the payment as they left it.
            Err(PaymentWriteError::Stale) => {
                let now_is = self.reread(&payment).await?;
                if now_is.state == "pending" {
                    // The application moved, not the payment: look again, which gives it back.
                    return Box::pin(self.conclude(now_is, source, now)).await;
                }
                return Ok((now_is, None));
            }
            Err(e) => return Err(write_error(e)),
        }
        let paid = self.reread(&payment).await?;
        self.settle(&gateway, &paid, source, now).await?;
        Ok((self.reread(&payment).await?, None))
    }

    /// A bill paid online as asked: recorded paid with its entry (the gateway's account → the
    /// company's), then settled. If the same bill was paid meanwhile another way (at a counter,
    /// in another tab), the database refuses the second and this one is given back.
    async fn conclude_bill(
        &self,
        gateway: &Gateway<'_>,
        payment: &PaymentRecord,
        asked: &PaymentRequest,
        said: &BankSays,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<(PaymentRecord, Option<Refusal>), PaymentError> {
        let entry = pishkhan_domain::ledger::Entry::transfer(
            Account::Company(payment.payee.clone()),
            Account::Provider(asked.terminal.clone()),
            payment.rials,
        )
        .map_err(|e| StoreError::Corrupt(format!("{}: {e}", payment.number)))?;
        let memo = format!(
            "پرداخت اینترنتی قبض {} / {}",
            payment.bill_id.clone().unwrap_or_default(),
            payment.payment_id.clone().unwrap_or_default()
        );
        let change = paid_as_said(payment, said, entry, memo, None, source, now);
        match self.store().change_payment(&change).await {
            Ok(()) => {}
            // Concluded by the other callback, or the sweep, at the same moment.
            Err(PaymentWriteError::Stale) => return Ok((self.reread(payment).await?, None)),
            Err(PaymentWriteError::BillPaid) => {
                gateway.finish("/api/reverse", &asked.token).await?;
                self.fail(
                    payment,
                    "این قبض هم‌زمان از راه دیگری پرداخت شد؛ این پرداخت از بانک برگشت داده شد.",
                    source,
                    now,
                )
                .await?;
                return Ok((self.reread(payment).await?, Some(Refusal::NotPaid)));
            }
            Err(e) => return Err(write_error(e)),
        }
        let paid = self.reread(payment).await?;
        self.settle(gateway, &paid, source, now).await?;
        Ok((self.reread(payment).await?, None))
    }

    async fn reread(&self, payment: &PaymentRecord) -> Result<PaymentRecord, PaymentError> {
        self.store()
            .payment(&payment.number)
            .await?
            .ok_or(PaymentError::NotFound)
    }

    /// Ends a pending payment as failed, with the reason the person reads.
    async fn fail(
        &self,
        payment: &PaymentRecord,
        note: &str,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<(), PaymentError> {
        let change = PaymentChange {
            number: payment.number.clone(),
            from: payment.state.clone(),
            to: "failed".into(),
            reference: None,
            note: Some(note.to_owned()),
            at: now,
            ledger: None,
            transition: None,
            audit: audit(
                PAYMENTS_ACTOR,
                source,
                "payment.failed",
                &payment.number,
                now,
                json!({ "note": note }),
            ),
        };
        match self.store().change_payment(&change).await {
            Ok(()) | Err(PaymentWriteError::Stale) => Ok(()),
            Err(e) => Err(write_error(e)),
        }
    }

    /// Tells the bank to settle a paid payment, and records it settled when the bank says so.
    /// A bank that does not answer leaves it paid: the sweep settles it later.
    async fn settle(
        &self,
        gateway: &Gateway<'_>,
        payment: &PaymentRecord,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<(), PaymentError> {
        let token = payment.token.clone().unwrap_or_default();
        match gateway.finish("/api/settle", &token).await {
            Ok(true) => {}
            Ok(false) | Err(_) => return Ok(()),
        }
        let change = PaymentChange {
            number: payment.number.clone(),
            from: "paid".into(),
            to: "settled".into(),
            reference: None,
            note: None,
            at: now,
            ledger: None,
            transition: None,
            audit: audit(
                PAYMENTS_ACTOR,
                source,
                "payment.settled",
                &payment.number,
                now,
                json!({}),
            ),
        };
        match self.store().change_payment(&change).await {
            Ok(()) | Err(PaymentWriteError::Stale) => Ok(()),
            Err(e) => Err(write_error(e)),
        }
    }

    /// Asks the bank about online payments whose callback came late or never (pending longer
    /// than [`SWEEP_AFTER`]) and settles paid ones the bank did not settle: after a crash, a
    /// lost callback or a bank that timed out, every payment ends where the bank says it is.
    /// Answers how many it looked at.
    pub async fn sweep_payments(&self, now: DateTime<Utc>) -> Result<usize, PaymentError> {
        if self.config().payment.is_none() {
            return Ok(0);
        }
        let mut seen = 0;
        for state in ["pending", "paid"] {
            let due = self
                .store()
                .online_payments_in(state, now - SWEEP_AFTER, 100)
                .await?;
            for payment in due {
                seen += 1;
                let number = payment.number.clone();
                if let Err(e) = self.conclude(payment, "sweep", now).await {
                    tracing::warn!(payment = %number, error = %e, "the sweep could not conclude a payment");
                }
            }
        }
        Ok(seen)
    }

    /// Runs the sweep every minute, for as long as the server runs.
    pub async fn run_payment_sweep(self) {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = self.sweep_payments(Utc::now()).await {
                tracing::warn!(error = %e, "the payment sweep failed");
            }
        }
    }

    /// An operator takes an application's bill at the counter, in cash or by card (the card
    /// terminal's reference): paid at once, into the operator's till, and the application
    /// moves on, all in one transaction.
    #[tracing::instrument(skip_all, fields(code = %code))]
    pub async fn pay_at_counter(
        &self,
        principal: &Principal,
        source: &str,
        code: &str,
        method: Method,
        reference: &str,
        now: DateTime<Utc>,
    ) -> Result<PaymentRecord, PaymentError> {
        let (record, role, bill) = self.payable(principal, code).await?;
        let centre = record
            .centre
            .clone()
            .filter(|c| role == Role::Operator && counter_centres(principal).contains(c));
        let Some(centre) = centre else {
            return Err(refused(
                "payment_counter_only",
                "دریافت هزینه در پیشخوان با متصدی دفتری است که پرونده را ثبت کرده است.",
                "Taking a fee at a counter is for an operator of the centre that filed it.",
            ));
        };
        let reference = counter_reference(method, reference)?;
        let operator = principal.actor_id();
        self.till_open(&centre, &operator, now).await?;
        let number = payment_number();
        let step = self
            .paid_step(&record, &operator, source, &number, now)
            .await?
            .ok_or_else(|| {
                refused(
                    "payment_not_owed",
                    "این پرونده اکنون پرداختی ندارد.",
                    "Nothing is owed on this application now.",
                )
            })?;
        let ledger = bill
            .payment_entry(Account::Till(centre.clone(), operator.clone()))
            .map_err(|e| StoreError::Corrupt(format!("{number}: {e}")))?;
        let payment = NewPayment {
            number: number.clone(),
            purpose: "fee".into(),
            application: Some(record.code.clone()),
            bill_id: None,
            payment_id: None,
            payee: bill.agency.clone(),
            rials: bill.total(),
            lines: lines_json(&bill),
            method: method.code().into(),
            state: "paid".into(),
            provider: reference.as_ref().map(|_| format!("card:{centre}")),
            terminal: None,
            token: None,
            reference: reference.clone(),
            centre: Some(centre.clone()),
            operator: Some(operator.clone()),
            payer: None,
            created_at: now,
            till_day: Some(pishkhan_domain::JalaliDate::in_iran(now).format_numeric()),
        };
        let entry = NewLedgerEntry {
            kind: "payment".into(),
            reference: number.clone(),
            memo: format!(
                "{} در پیشخوان برای پروندهٔ {}",
                method.name_fa(),
                record.code
            ),
            key: Some(format!("payment:{number}")),
            reverses: None,
            posted_by: operator.clone(),
            posted_at: now,
            entry: ledger,
        };
        let audit_line = audit(
            &operator,
            source,
            "payment.taken",
            &number,
            now,
            json!({
                "application": record.code, "rials": bill.total(), "method": method.code(),
                "reference": reference,
            }),
        );
        self.store()
            .insert_payment_with_step(&payment, Some(&entry), Some(&step), &audit_line)
            .await
            .map_err(write_error)?;
        self.store()
            .payment(&number)
            .await?
            .ok_or(PaymentError::NotFound)
    }
}

pub(crate) fn write_error(error: PaymentWriteError) -> PaymentError {
    match error {
        PaymentWriteError::Stale => refused(
            "payment_stale",
            "پرونده یا پرداخت هم‌زمان تغییر کرد؛ صفحه را دوباره باز کنید و وضعیت را ببینید.",
            "The application or payment changed meanwhile; reload and look.",
        ),
        PaymentWriteError::ReferenceUsed => refused(
            "payment_reference_used",
            "این شمارهٔ مرجع پیش‌تر برای پرداخت دیگری ثبت شده است.",
            "This reference paid another payment.",
        ),
        PaymentWriteError::BillPaid => refused(
            "bill_paid",
            "این قبض پیش‌تر پرداخت شده است.",
            "This bill is paid already.",
        ),
        PaymentWriteError::TillClosed => till_closed(),
        PaymentWriteError::RefundTooMuch => refused(
            "refund_too_large",
            "بازپرداخت بیش از مانده است.",
            "More than is left of the payment after earlier refunds.",
        ),
        PaymentWriteError::Store(e) => PaymentError::Store(e),
    }
}

/// The till (or the centre's day) is closed for today.
pub(crate) fn till_closed() -> PaymentError {
    refused(
        "till_closed",
        "صندوق شما برای امروز بسته شده است و پولی در آن گرفته نمی‌شود؛ فردا دوباره باز است.",
        "Your till is closed for today and takes no more money; it opens again tomorrow.",
    )
}

impl App {
    /// Each account's balance in the books whose key starts with `prefix` (`agency:` …), in
    /// byte order: for the operator of the installation (the command line).
    pub async fn balances(&self, prefix: &str) -> Result<Vec<(String, i64)>, StoreError> {
        self.store().ledger_balances(prefix).await
    }

    /// The books at a glance, for checks and benchmarks: the sum of every posting (0 while they
    /// balance) and how many entries are posted.
    pub async fn books_check(&self) -> Result<(i64, u64), StoreError> {
        let total = self.store().ledger_total().await?;
        let entries = self.store().ledger_entry_count().await?;
        Ok((total, entries))
    }
}
