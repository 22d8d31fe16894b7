//! Sanity checks before the load: orders placed through the API, and listing totals that
//! must equal what the seed gave each member, on both targets.

use anyhow::ensure;
use reqwest::{Client, Url};

use crate::{
    api::{self, Member, Placed},
    seed,
};

/// Places `count` orders as `member`, one after the other. Their numbers must come after
/// the seeded ones (`after`): the seed moved the number sequence past them.
pub(crate) async fn place_orders(
    client: &Client,
    base: &Url,
    member: &Member,
    count: u32,
    after: i64,
) -> anyhow::Result<Vec<Placed>> {
    let mut placed = Vec::new();
    for k in 0..count {
        let order = api::place_order(client, base, member, k).await?;
        ensure!(
            order.number > after,
            "POST /api/v1/orders got number {}, not above the seeded numbers (up to {after})",
            order.number
        );
        placed.push(order);
    }
    Ok(placed)
}

/// What the listings must say, for the first and the last registered member, on every
/// target. `sanity` orders (placed, not paid) were added to member 0's seeded ones.
/// Returns one failure per mismatch.
pub(crate) async fn verify_totals(
    targets: &[(&str, &Client, &Url)],
    members: &[Member],
    order_members: i64,
    orders: i64,
    sanity: i64,
) -> anyhow::Result<Vec<String>> {
    let mut failures = Vec::new();
    let mut checked = vec![0, members.len() - 1];
    checked.dedup();
    for k in checked {
        let (seeded, paid) = seed::member_orders(k as i64, order_members, orders);
        let total = seeded + if k == 0 { sanity } else { 0 };
        for &(name, client, base) in targets {
            let member = &members[k];
            let (got, items) = api::listing_total(client, base, member, "page=1&size=20").await?;
            let (got_paid, _) =
                api::listing_total(client, base, member, "status=PAID&page=1&size=20").await?;
            let want_items = total.min(20) as usize;
            if (got, items, got_paid) != (total, want_items, paid) {
                failures.push(format!(
                    "{name}: member {k} ({}) sees {got} orders ({items} on page 1, {got_paid} paid), \
                     expected {total} ({want_items} on page 1, {paid} paid)",
                    member.id
                ));
            } else {
                eprintln!(
                    "check, {name}: member {k} sees {got} orders, {got_paid} paid, as seeded"
                );
            }
        }
    }
    Ok(failures)
}
