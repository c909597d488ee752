//! The books on both databases: a long random run of payments, repeated payments, refunds,
//! reversals and settlements leaves them balanced and equal, account by account, to the domain's
//! own reckoning; nothing posted can be changed.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{TimeZone, Utc};
use pishkhan_domain::ledger::{Account, Balances, Entry, Posting};
use pishkhan_store::testing::execute_raw;
use pishkhan_store::{NewLedgerEntry, Posted, Store, WriteError, on_both_backends};

on_both_backends!(
    the_books_balance_after_thousands_of_random_operations,
    the_same_payment_told_at_once_from_many_callers_posts_once,
    the_ledger_refuses_changes_through_the_database,
);

/// A small, seeded generator: the run is the same every time, and a failure names its seed.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn rials(&mut self) -> i64 {
        i64::try_from(1 + self.below(5_000_000)).unwrap()
    }
}

fn new_entry(
    kind: &str,
    key: Option<String>,
    reverses: Option<i64>,
    entry: Entry,
) -> NewLedgerEntry {
    NewLedgerEntry {
        kind: kind.to_owned(),
        reference: "test".to_owned(),
        memo: format!("{kind} in a random run"),
        key,
        reverses,
        posted_by: "test".to_owned(),
        posted_at: Utc.timestamp_opt(1_764_000_000, 0).unwrap(),
        entry,
    }
}

fn payment(draw: &mut Draw) -> Entry {
    let total = draw.rials();
    let share = i64::try_from(draw.below(u64::try_from(total / 10).unwrap() + 1)).unwrap();
    let received = if draw.below(2) == 0 {
        Account::Provider(format!("bank-{}", draw.below(2)))
    } else {
        Account::Till(format!("centre-{}", draw.below(3)), "op".to_owned())
    };
    let mut postings = vec![
        Posting {
            account: received,
            rials: total,
        },
        Posting {
            account: Account::Agency(format!("agency-{}", draw.below(4))),
            rials: -(total - share),
        },
    ];
    if share > 0 {
        postings.push(Posting {
            account: Account::Centre(format!("centre-{}", draw.below(3))),
            rials: -share,
        });
    }
    if total == share {
        postings.remove(1);
    }
    Entry::new(postings).unwrap()
}

async fn the_books_balance_after_thousands_of_random_operations(store: Store) {
    const OPERATIONS: usize = 2_000;
    let seed = 0x5eed_1404;
    let mut draw = Draw(seed);
    let mut books = Balances::default();
    // (id, key, entry) of what was posted, and which were reversed.
    let mut posted: Vec<(i64, Option<String>, Entry)> = Vec::new();
    let mut reversed = std::collections::BTreeSet::new();
    for n in 0..OPERATIONS {
        let choice = draw.below(10);
        if posted.is_empty() || choice < 4 {
            // A new payment, under its own key.
            let entry = payment(&mut draw);
            let key = format!("payment:{n}");
            let done = store
                .post_ledger_entry(&new_entry(
                    "payment",
                    Some(key.clone()),
                    None,
                    entry.clone(),
                ))
                .await
                .unwrap();
            let Posted::New(id) = done else {
                panic!("seed {seed}, op {n}: {done:?}")
            };
            books.apply(&entry);
            posted.push((id, Some(key), entry));
        } else if choice < 6 {
            // The same payment told again (a second callback): posted once.
            let (id, key, entry) =
                posted[usize::try_from(draw.below(posted.len() as u64)).unwrap()].clone();
            let Some(key) = key else { continue };
            let again = store
                .post_ledger_entry(&new_entry("payment", Some(key), None, entry))
                .await
                .unwrap();
            assert_eq!(again, Posted::Already(id), "seed {seed}, op {n}");
        } else if choice < 8 {
            // A reversal: once only.
            let (id, _, entry) =
                posted[usize::try_from(draw.below(posted.len() as u64)).unwrap()].clone();
            let done = store
                .post_ledger_entry(&new_entry("reversal", None, Some(id), entry.reversal()))
                .await;
            if reversed.insert(id) {
                let Ok(Posted::New(rid)) = done else {
                    panic!("seed {seed}, op {n}: {done:?}")
                };
                books.apply(&entry.reversal());
                posted.push((rid, None, entry.reversal()));
                // A reversal may itself be reversed (the mistake was the reversal).
            } else {
                assert!(
                    matches!(done, Err(WriteError::Stale)),
                    "seed {seed}, op {n}: {done:?}"
                );
            }
        } else {
            // A settlement: money passed on from a bank to an agency or a centre.
            let to = if draw.below(2) == 0 {
                Account::Agency(format!("agency-{}", draw.below(4)))
            } else {
                Account::Centre(format!("centre-{}", draw.below(3)))
            };
            let entry =
                Entry::transfer(Account::Provider("bank-0".into()), to, draw.rials()).unwrap();
            let id = store
                .post_ledger_entry(&new_entry("settlement", None, None, entry.clone()))
                .await
                .unwrap()
                .id();
            books.apply(&entry);
            posted.push((id, None, entry));
        }
    }
    assert_eq!(store.ledger_total().await.unwrap(), 0, "seed {seed}");
    let stored = store.ledger_balances("").await.unwrap();
    let mut expected: Vec<(String, i64)> = books
        .accounts()
        .map(|(a, b)| (a.key(), i64::try_from(b).unwrap()))
        .collect();
    expected.sort();
    assert_eq!(stored, expected, "seed {seed}");
    // One kind of account at a time, as a statement asks.
    let centres = store.ledger_balances("centre:").await.unwrap();
    assert!(!centres.is_empty() && centres.iter().all(|(a, _)| a.starts_with("centre:")));
    // An entry reads back whole, its postings in order.
    let (id, key, entry) = posted[0].clone();
    let record = store.ledger_entry(id).await.unwrap().unwrap();
    assert_eq!(record.key, key);
    assert_eq!(
        record.postings,
        entry
            .postings()
            .iter()
            .map(|p| (p.account.key(), p.rials))
            .collect::<Vec<_>>()
    );
    assert_eq!(store.ledger_entry(i64::MAX).await.unwrap(), None);
}

async fn the_same_payment_told_at_once_from_many_callers_posts_once(store: Store) {
    let entry = Entry::transfer(
        Account::Agency("civil-registry".into()),
        Account::Provider("bank-0".into()),
        230_000,
    )
    .unwrap();
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (store, entry) = (store.clone(), entry.clone());
        callers.spawn(async move {
            store
                .post_ledger_entry(&new_entry(
                    "payment",
                    Some("payment:P-1".into()),
                    None,
                    entry,
                ))
                .await
                .unwrap()
        });
    }
    let answers = callers.join_all().await;
    let new: Vec<_> = answers
        .iter()
        .filter(|a| matches!(a, Posted::New(_)))
        .collect();
    assert_eq!(new.len(), 1, "{answers:?}");
    assert!(answers.iter().all(|a| a.id() == new[0].id()));
    assert_eq!(
        store.ledger_balances("provider:").await.unwrap(),
        [("provider:bank-0".to_owned(), 230_000)]
    );
    // A reversal of an entry that does not exist is refused.
    assert!(matches!(
        store
            .post_ledger_entry(&new_entry("reversal", None, Some(999), entry.reversal()))
            .await,
        Err(WriteError::Stale)
    ));
}

async fn the_ledger_refuses_changes_through_the_database(store: Store) {
    let entry = Entry::transfer(
        Account::Agency("civil-registry".into()),
        Account::Provider("bank-0".into()),
        230_000,
    )
    .unwrap();
    store
        .post_ledger_entry(&new_entry("payment", None, None, entry))
        .await
        .unwrap();
    for sql in [
        "UPDATE ledger_postings SET rials = 1 WHERE entry_id = 1",
        "DELETE FROM ledger_postings WHERE entry_id = 1",
        "UPDATE ledger_entries SET memo = 'x' WHERE id = 1",
        "DELETE FROM ledger_entries WHERE id = 1",
        // A posting of nothing says nothing.
        "INSERT INTO ledger_postings (entry_id, line, account, rials) VALUES (1, 9, 'agency:x', 0)",
    ] {
        assert!(execute_raw(&store, sql).await.is_err(), "{sql}");
    }
    assert_eq!(store.ledger_total().await.unwrap(), 0);
}
