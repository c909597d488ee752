//! Payments on both databases: a bill paid once, a bank reference used once, a confirmation told
//! twice counted once; each refusal leaves the books as they were.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use pishkhan_domain::ledger::{Account, Entry};
use pishkhan_store::{
    NewAuditEntry, NewLedgerEntry, NewPayment, PaymentChange, PaymentWriteError, Store,
    on_both_backends,
};

on_both_backends!(
    a_bill_is_paid_once,
    a_bank_reference_pays_one_payment,
    a_confirmation_told_twice_is_counted_once,
    the_sweep_finds_what_the_bank_never_confirmed,
    refunds_at_the_same_instant_never_add_up_past_the_payment,
);

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_764_000_000 + secs, 0).unwrap()
}

fn audit(action: &str, number: &str) -> NewAuditEntry {
    NewAuditEntry {
        at: at(0),
        actor: "op-1".into(),
        action: action.into(),
        target_kind: "payment".into(),
        target_id: number.into(),
        source: "test".into(),
        details: "{}".into(),
    }
}

fn bill_payment(number: &str, state: &str) -> NewPayment {
    NewPayment {
        number: number.into(),
        purpose: "bill".into(),
        application: None,
        bill_id: Some("7748317800142".into()),
        payment_id: Some("1770160".into()),
        payee: "tci".into(),
        rials: 17_000,
        lines: "[]".into(),
        method: if state == "paid" { "cash" } else { "online" }.into(),
        state: state.into(),
        provider: (state != "paid").then(|| "sandbox".into()),
        terminal: (state != "paid").then(|| "T-1".into()),
        token: (state != "paid").then(|| format!("tok-{number}")),
        reference: None,
        centre: Some("centre-12".into()),
        operator: Some("op-1".into()),
        payer: None,
        created_at: at(0),
        till_day: None,
    }
}

fn entry(number: &str, from: Account) -> NewLedgerEntry {
    NewLedgerEntry {
        kind: "payment".into(),
        reference: number.into(),
        memo: "قبض تلفن ثابت".into(),
        key: Some(format!("payment:{number}")),
        reverses: None,
        posted_by: "op-1".into(),
        posted_at: at(0),
        entry: Entry::transfer(Account::Company("tci".into()), from, 17_000).unwrap(),
    }
}

fn paid(number: &str, reference: &str) -> PaymentChange {
    PaymentChange {
        number: number.into(),
        from: "pending".into(),
        to: "paid".into(),
        reference: Some(reference.into()),
        note: None,
        at: at(60),
        ledger: Some(entry(number, Account::Provider("sandbox".into()))),
        transition: None,
        audit: audit("payment.paid", number),
    }
}

async fn a_bill_is_paid_once(store: Store) {
    let till = Account::Till("centre-12".into(), "op-1".into());
    store
        .insert_payment(
            &bill_payment("P-1", "paid"),
            Some(&entry("P-1", till.clone())),
            &audit("payment.taken", "P-1"),
        )
        .await
        .unwrap();
    // The same bill again at the counter: refused, nothing posted.
    let again = store
        .insert_payment(
            &bill_payment("P-2", "paid"),
            Some(&entry("P-2", till.clone())),
            &audit("payment.taken", "P-2"),
        )
        .await;
    assert!(
        matches!(again, Err(PaymentWriteError::BillPaid)),
        "{again:?}"
    );
    assert_eq!(store.payment("P-2").await.unwrap(), None);
    // Online: it may be asked for, but cannot become paid.
    store
        .insert_payment(
            &bill_payment("P-3", "pending"),
            None,
            &audit("payment.asked", "P-3"),
        )
        .await
        .unwrap();
    let online = store.change_payment(&paid("P-3", "REF-300001")).await;
    assert!(
        matches!(online, Err(PaymentWriteError::BillPaid)),
        "{online:?}"
    );
    assert_eq!(
        store.payment("P-3").await.unwrap().unwrap().state,
        "pending"
    );
    assert_eq!(
        store.ledger_balances("").await.unwrap(),
        [
            ("company:tci".to_owned(), -17_000),
            ("till:centre-12/op-1".to_owned(), 17_000)
        ]
    );
    let found = store
        .bill_payment("7748317800142", "1770160")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.number.as_str(), found.state.as_str()),
        ("P-1", "paid")
    );
    assert!(found.paid_at.is_some());
}

async fn a_bank_reference_pays_one_payment(store: Store) {
    for number in ["P-1", "P-2"] {
        let mut p = bill_payment(number, "pending");
        p.payment_id = Some(format!("{number}-period"));
        store
            .insert_payment(&p, None, &audit("payment.asked", number))
            .await
            .unwrap();
    }
    store
        .change_payment(&paid("P-1", "REF-000001"))
        .await
        .unwrap();
    let reused = store.change_payment(&paid("P-2", "REF-000001")).await;
    assert!(
        matches!(reused, Err(PaymentWriteError::ReferenceUsed)),
        "{reused:?}"
    );
    let p2 = store.payment("P-2").await.unwrap().unwrap();
    assert_eq!((p2.state.as_str(), p2.reference), ("pending", None));
    assert_eq!(
        store.ledger_balances("provider:").await.unwrap(),
        [("provider:sandbox".to_owned(), 17_000)]
    );
    assert_eq!(store.ledger_total().await.unwrap(), 0);
}

async fn a_confirmation_told_twice_is_counted_once(store: Store) {
    store
        .insert_payment(
            &bill_payment("P-1", "pending"),
            None,
            &audit("payment.asked", "P-1"),
        )
        .await
        .unwrap();
    let (one, two) = (paid("P-1", "REF-000001"), paid("P-1", "REF-000001"));
    let (first, second) = tokio::join!(store.change_payment(&one), store.change_payment(&two));
    let outcomes = [first, second];
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, Err(PaymentWriteError::Stale))),
        "{outcomes:?}"
    );
    assert_eq!(
        store.ledger_balances("provider:").await.unwrap(),
        [("provider:sandbox".to_owned(), 17_000)]
    );
    // Settled, then never reversed.
    let settle = PaymentChange {
        from: "paid".into(),
        to: "settled".into(),
        reference: None,
        ledger: None,
        ..paid("P-1", "x")
    };
    store.change_payment(&settle).await.unwrap();
    let reverse = PaymentChange {
        to: "reversed".into(),
        ..settle.clone()
    };
    assert!(matches!(
        store.change_payment(&reverse).await,
        Err(PaymentWriteError::Stale)
    ));
    let p = store.payment("P-1").await.unwrap().unwrap();
    assert_eq!(p.state, "settled");
    assert_eq!(p.reference.as_deref(), Some("REF-000001"));
    assert!(p.ended_at.is_some());
}

async fn the_sweep_finds_what_the_bank_never_confirmed(store: Store) {
    let mut old = bill_payment("P-1", "pending");
    old.created_at = at(-3600);
    let mut fresh = bill_payment("P-2", "pending");
    fresh.payment_id = Some("other".into());
    for p in [&old, &fresh] {
        store
            .insert_payment(p, None, &audit("payment.asked", &p.number))
            .await
            .unwrap();
    }
    let due = store
        .pending_online_payments(at(0) - Duration::minutes(15), 100)
        .await
        .unwrap();
    assert_eq!(
        due.iter().map(|p| p.number.as_str()).collect::<Vec<_>>(),
        ["P-1"]
    );
    assert_eq!(
        store
            .payment_by_token("tok-P-2")
            .await
            .unwrap()
            .unwrap()
            .number,
        "P-2"
    );
}

/// Eight refunds of 5,000 rials of a 17,000-rial payment at once: three pass, the rest are
/// refused in their own transaction, and the books hold exactly what passed.
async fn refunds_at_the_same_instant_never_add_up_past_the_payment(store: Store) {
    store
        .insert_payment(
            &bill_payment("P-R", "paid"),
            Some(&entry("P-R", Account::Provider("sandbox".into()))),
            &audit("payment.taken", "P-R"),
        )
        .await
        .unwrap();
    let mut refunds = tokio::task::JoinSet::new();
    for i in 0..8 {
        let store = store.clone();
        refunds.spawn(async move {
            let refund = NewLedgerEntry {
                kind: "refund".into(),
                reference: "P-R".into(),
                memo: "بازپرداخت".into(),
                key: Some(format!("refund:P-R:{i}")),
                reverses: None,
                posted_by: "admin-1".into(),
                posted_at: at(120),
                entry: Entry::transfer(
                    Account::Provider("sandbox".into()),
                    Account::Company("tci".into()),
                    5_000,
                )
                .unwrap(),
            };
            store
                .post_refund("P-R", 17_000, &refund, &audit("payment.refund", "P-R"))
                .await
        });
    }
    let results = refunds.join_all().await;
    let passed = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(passed, 3, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(()) | Err(PaymentWriteError::RefundTooMuch))),
        "{results:?}"
    );
    assert_eq!(store.refunded("P-R").await.unwrap(), 15_000);
    assert_eq!(store.ledger_total().await.unwrap(), 0);
    // A payment that is not there refunds nothing.
    let none = NewLedgerEntry {
        key: Some("refund:nothing".into()),
        reference: "P-NONE".into(),
        ..entry("P-NONE", Account::Provider("sandbox".into()))
    };
    assert!(matches!(
        store
            .post_refund("P-NONE", 17_000, &none, &audit("payment.refund", "P-NONE"))
            .await,
        Err(PaymentWriteError::Stale)
    ));
}
