//! Properties the planner must keep whatever the data and the run schedule.

use std::collections::HashMap;

use herald_core::planner::NoticeKind;
use jiff::civil::{Date, date};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::support::*;

#[derive(Debug, Clone)]
struct Case {
    invoices: Vec<(i64, i64, u32, bool)>, // issue offset, days to due, amount, EUR?
    payments: Vec<(usize, i64, u8)>,      // invoice, day offset, percent of amount
    skips: Vec<bool>,                     // a day without a run
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec((0i64..40, 0i64..30, 1u32..50_000, any::<bool>()), 1..6),
        prop::collection::vec((0usize..6, 0i64..120, 1u8..=100), 0..6),
        prop::collection::vec(prop::bool::weighted(0.3), 130),
    )
        .prop_map(|(invoices, payments, skips)| Case {
            invoices,
            payments,
            skips,
        })
}

const START: Date = date(2026, 9, 1);

fn sim_of(c: &Case) -> Sim {
    let invoices: Vec<_> = c
        .invoices
        .iter()
        .enumerate()
        .map(|(i, (issue, due, amount, eur))| {
            let issue_d = day(START, *issue);
            invoice(
                &format!("I{i}"),
                "C1",
                issue_d,
                day(issue_d, *due),
                &amount.to_string(),
                if *eur { "EUR" } else { "PLN" },
            )
        })
        .collect();
    let payments = c
        .payments
        .iter()
        .filter(|(i, _, _)| *i < invoices.len())
        .map(|(i, on, pct)| SimPayment {
            invoice: *i,
            on: day(invoices[*i].issue_date, *on % 90),
            amount: invoices[*i].amount * Decimal::from(*pct) / Decimal::from(100),
        })
        .collect();
    Sim::new(
        default_rules(),
        customer("C1"),
        vec![billing("C1")],
        invoices,
        payments,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Running the planner again over the same day creates nothing.
    #[test]
    fn a_rerun_is_a_no_op(c in case()) {
        let mut sim = sim_of(&c);
        for d in 0..130 {
            if c.skips[d as usize] { continue; }
            sim.run(day(START, d));
            let again = sim.run(day(START, d));
            prop_assert!(again.is_empty(), "re-run on day {d} created {:?}", again.iter().map(|n| &n.dedupe_key).collect::<Vec<_>>());
        }
    }

    /// No deliverable notice about an invoice that is paid on the day it is planned.
    #[test]
    fn no_notice_for_a_paid_invoice(c in case()) {
        let mut sim = sim_of(&c);
        for d in 0..130 {
            if c.skips[d as usize] { continue; }
            let today = day(START, d);
            for n in sim.run(today) {
                if n.rule_id == "new-invoice" || !delivers(&n) { continue; }
                for id in &n.invoice_ids {
                    let i = sim.invoices.iter().position(|v| &v.id == id).unwrap();
                    prop_assert!(sim.paid(i, today) < sim.invoices[i].amount, "{} on {today} about paid {id}", n.dedupe_key);
                }
            }
        }
    }

    /// At most one dunning letter per customer per day, however the runs fall.
    #[test]
    fn at_most_one_letter_per_customer_per_day(c in case()) {
        let mut sim = sim_of(&c);
        for d in 0..130 {
            if c.skips[d as usize] { continue; }
            let created = sim.run(day(START, d));
            prop_assert!(created.iter().filter(|n| n.kind == NoticeKind::Dunning).count() <= 1);
        }
        let mut per_day: HashMap<Date, usize> = HashMap::new();
        for (_, d) in sim.letters() { *per_day.entry(d).or_default() += 1; }
        prop_assert!(per_day.values().all(|n| *n == 1));
    }

    /// Skipping a week of runs loses nothing: afterwards every dunning step that is
    /// due has been covered exactly once, and an invoice never goes back down the
    /// ladder.
    #[test]
    fn catch_up_after_a_skipped_week_covers_each_step_once(c in case(), skip_from in 20i64..80) {
        let mut daily = sim_of(&c);
        let mut skipping = sim_of(&c);
        let back = skip_from + 7;
        for d in 0..130 {
            let today = day(START, d);
            daily.run(today);
            if !(skip_from..back).contains(&d) {
                skipping.run(today);
            }
            if d == back {
                // On the day the runs resume, every invoice still owing has the same
                // steps covered as with daily runs: a catch-up folds the missed steps
                // into its letter rather than dropping them. (An invoice paid during
                // the gap rightly gets no catch-up letter.)
                for (i, inv) in daily.invoices.iter().enumerate() {
                    if inv.issue_date <= today && daily.paid(i, today) < inv.amount {
                        prop_assert_eq!(daily.covered.get(&i), skipping.covered.get(&i), "invoice {} on {}", i, today);
                    }
                }
            }
        }
        // …and each covered step belongs to exactly one letter.
        let mut owners: HashMap<(String, u32), usize> = HashMap::new();
        for (n, _) in skipping.letters() {
            for s in &n.covers {
                for step in s.from..s.to { *owners.entry((s.invoice_id.to_string(), step)).or_default() += 1; }
            }
        }
        prop_assert!(owners.values().all(|n| *n == 1), "{owners:?}");
        // Per invoice, each letter moves its own step forward, never back. (The
        // letter's level is the highest among all its invoices, so it may differ.)
        for inv in &skipping.invoices {
            let mut steps: Vec<(Date, u32)> = skipping.letters().iter()
                .flat_map(|(n, d)| n.covers.iter().filter(|s| s.invoice_id == inv.id).map(move |s| (*d, s.to)))
                .collect();
            steps.sort();
            prop_assert!(steps.windows(2).all(|w| w[0].1 < w[1].1), "{steps:?}");
        }
    }
}
