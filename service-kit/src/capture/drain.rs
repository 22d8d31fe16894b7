//! The drain: takes captured records off the queue in batches, masks them, folds storms,
//! and hands what is left to the delivery. It never waits on the store itself, so a slow
//! store cannot back the queue up while a storm is being counted.

use std::time::{Duration, Instant};

use error_report::masking::{scrub_text, scrub_value};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{
    CapturedRecord,
    storm::{StormRule, Storms},
};

/// Records taken off the queue at once.
const BATCH: usize = 256;

/// How often windows that are over are looked for.
const TICK: Duration = Duration::from_millis(250);

/// Runs until `shutdown`, then passes on what is left (storm summaries included) and
/// ends, which ends the delivery once it has recorded them.
pub(crate) async fn drain(
    mut queue: mpsc::Receiver<CapturedRecord>,
    rule: StormRule,
    deliveries: mpsc::Sender<Vec<CapturedRecord>>,
    shutdown: CancellationToken,
) {
    let mut storms = Storms::new(rule);
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        let mut out = Vec::new();
        tokio::select! {
            received = queue.recv_many(&mut batch, BATCH) => {
                if received == 0 {
                    break;
                }
                fold(&mut storms, &mut batch, &mut out);
            }
            _ = tick.tick() => storms.expire(Instant::now(), &mut out),
            _ = shutdown.cancelled() => break,
        }
        hand_over(&deliveries, out);
    }
    // What was logged up to now still counts: the rest of the queue, and every summary.
    while let Ok(record) = queue.try_recv() {
        batch.push(record);
    }
    let mut out = Vec::new();
    fold(&mut storms, &mut batch, &mut out);
    storms.close(&mut out);
    if !out.is_empty() {
        let _ = deliveries.send(out).await;
    }
}

fn fold(storms: &mut Storms, batch: &mut Vec<CapturedRecord>, out: &mut Vec<CapturedRecord>) {
    let now = Instant::now();
    storms.expire(now, out);
    for mut record in batch.drain(..) {
        mask(&mut record);
        storms.observe(record, now, out);
    }
}

/// Passes records on unless the delivery is that far behind; then they are counted as
/// dropped, as a full queue would.
fn hand_over(deliveries: &mpsc::Sender<Vec<CapturedRecord>>, out: Vec<CapturedRecord>) {
    if out.is_empty() {
        return;
    }
    let count = out.len();
    if deliveries.try_send(out).is_err() {
        metrics::counter!("errors_capture_dropped_total", "reason" => "delivery_behind")
            .increment(count as u64);
    }
}

/// Takes every secret out of a record: values under secret names, secrets in any text.
pub(crate) fn mask(record: &mut CapturedRecord) {
    if let std::borrow::Cow::Owned(clean) = scrub_text(&record.message) {
        record.message = clean;
    }
    if let Some(id) = &record.request_id
        && let std::borrow::Cow::Owned(clean) = scrub_text(id)
    {
        record.request_id = Some(clean);
    }
    let mut fields = Value::Object(std::mem::take(&mut record.fields));
    scrub_value(&mut fields);
    if let Value::Object(fields) = fields {
        record.fields = fields;
    }
}

#[cfg(test)]
mod tests {
    use schemas::errors::Level;
    use serde_json::json;
    use time::OffsetDateTime;

    use super::*;

    #[test]
    fn secrets_are_masked_in_the_message_the_fields_and_the_request() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlc2lnbmF0dXJl";
        let fields = json!({
            "password": "Hunter22",
            "user": {"refresh_token": "r-123456", "email": "a@b.c"},
            "header": format!("Authorization: Bearer {jwt}"),
            "request": {"uri": format!("/api/v1/chats/stream?access_token={jwt}&x=1")},
        });
        let mut record = CapturedRecord {
            level: Level::Error,
            message: format!("login failed with password=Hunter22 and {jwt}"),
            target: "app".into(),
            request_id: Some("r1".into()),
            fields: fields.as_object().unwrap().clone(),
            occurred_at: OffsetDateTime::UNIX_EPOCH,
            count: 1,
        };
        mask(&mut record);
        let all = format!(
            "{} {}",
            record.message,
            Value::Object(record.fields.clone())
        );
        for secret in ["Hunter22", "r-123456", jwt] {
            assert!(!all.contains(secret), "{secret} in {all}");
        }
        assert_eq!(record.fields["password"], "[Filtered]");
        assert_eq!(record.fields["user"]["email"], "a@b.c");
        assert_eq!(
            record.fields["request"]["uri"],
            "/api/v1/chats/stream?access_token=[Filtered]&x=1"
        );
    }
}
