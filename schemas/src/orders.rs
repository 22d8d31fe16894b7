//! The orders context: orders placed by members, moved through a status machine.
//!
//! Every event names the order's member, so a consumer can route it (and a cache can
//! invalidate that member's listings) without looking the order up.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::domain::{DecodeError, DomainEvent, first_version_only, payload};

/// Order streams are named `order-<number>`.
pub const STREAM_PREFIX: &str = "order-";

/// The stream that holds one order's events.
pub fn stream_id(number: i64) -> String {
    format!("{STREAM_PREFIX}{number}")
}

crate::named_enum! {
    /// Where an order is in its life: PLACED -> PAID -> SHIPPED -> DELIVERED, and CANCELLED
    /// from PLACED or PAID.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, JsonSchema)]
    pub enum OrderStatus {
        Placed = "PLACED",
        Paid = "PAID",
        Shipped = "SHIPPED",
        Delivered = "DELIVERED",
        Cancelled = "CANCELLED",
    }
}

/// A member placed an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderPlaced {
    /// Sequential order number assigned at placement.
    pub number: i64,
    /// The member who placed it.
    pub member_id: Uuid,
    /// 1 to 200 characters.
    pub product_name: String,
    /// 1 to 1000.
    pub quantity: i32,
    /// Price of one unit in the currency's minor unit (e.g. cents), 0 or more.
    pub unit_price: i64,
    /// Up to 1000 characters; empty when none was given.
    pub note: String,
    /// The order date, set by the server.
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub placed_at: OffsetDateTime,
}

/// An order moved forward: PLACED -> PAID -> SHIPPED -> DELIVERED.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderStatusChanged {
    pub number: i64,
    /// The member who placed the order.
    pub member_id: Uuid,
    pub from: OrderStatus,
    pub to: OrderStatus,
    /// The user who moved it (the member, or an admin).
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub changed_at: OffsetDateTime,
}

/// An order was cancelled, from PLACED or PAID; its stream ends here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderCancelled {
    pub number: i64,
    /// The member who placed the order.
    pub member_id: Uuid,
    /// The status it was cancelled in.
    pub from: OrderStatus,
    /// The user who cancelled it (the member, or an admin).
    pub by: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub cancelled_at: OffsetDateTime,
}

/// Every event of the orders context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderEvent {
    Placed(OrderPlaced),
    StatusChanged(OrderStatusChanged),
    Cancelled(OrderCancelled),
}

impl OrderEvent {
    /// The order the event is about.
    pub fn number(&self) -> i64 {
        match self {
            Self::Placed(e) => e.number,
            Self::StatusChanged(e) => e.number,
            Self::Cancelled(e) => e.number,
        }
    }

    /// The member who placed the order.
    pub fn member_id(&self) -> Uuid {
        match self {
            Self::Placed(e) => e.member_id,
            Self::StatusChanged(e) => e.member_id,
            Self::Cancelled(e) => e.member_id,
        }
    }
}

impl DomainEvent for OrderEvent {
    const CONTEXT: &'static str = "orders";

    fn event_type(&self) -> &'static str {
        match self {
            Self::Placed(_) => "OrderPlaced",
            Self::StatusChanged(_) => "OrderStatusChanged",
            Self::Cancelled(_) => "OrderCancelled",
        }
    }

    fn schema_version(_event_type: &str) -> i32 {
        1
    }

    fn payload(&self) -> Value {
        let value = match self {
            Self::Placed(e) => serde_json::to_value(e),
            Self::StatusChanged(e) => serde_json::to_value(e),
            Self::Cancelled(e) => serde_json::to_value(e),
        };
        value.expect("order events serialize")
    }

    fn decode(event_type: &str, schema_version: i32, data: &Value) -> Result<Self, DecodeError> {
        first_version_only(event_type, schema_version)?;
        match event_type {
            "OrderPlaced" => payload(event_type, data).map(Self::Placed),
            "OrderStatusChanged" => payload(event_type, data).map(Self::StatusChanged),
            "OrderCancelled" => payload(event_type, data).map(Self::Cancelled),
            other => Err(DecodeError::UnknownType(other.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_travel_in_upper_case() {
        for status in OrderStatus::ALL {
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, status.as_str());
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(OrderStatus::parse("paid"), None);
    }

    #[test]
    fn a_stored_status_name_reads_back_and_an_unknown_one_is_refused() {
        for status in OrderStatus::ALL {
            assert_eq!(
                OrderStatus::try_from(status.as_str().to_owned()).unwrap(),
                status
            );
        }
        let err = OrderStatus::try_from("LOST".to_owned()).unwrap_err();
        assert_eq!(err.to_string(), r#"unknown OrderStatus name "LOST""#);
    }

    #[test]
    fn a_placed_order_round_trips_through_its_payload() {
        let event = OrderEvent::Placed(OrderPlaced {
            number: 7,
            member_id: Uuid::now_v7(),
            product_name: "Tea".into(),
            quantity: 2,
            unit_price: 450,
            note: String::new(),
            placed_at: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
        });
        let decoded = OrderEvent::decode("OrderPlaced", 1, &event.payload()).unwrap();
        assert_eq!(decoded, event);
    }
}
