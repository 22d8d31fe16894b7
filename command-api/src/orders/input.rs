//! Order input, parsed into valid fields at the edge.

use serde::{Deserialize, Serialize};
use serde_json::Map;
use service_kit::ApiError;
use utoipa::ToSchema;

use crate::text;

pub const MAX_PRODUCT_NAME_CHARS: usize = 200;
pub const MAX_QUANTITY: i64 = 1000;
/// The largest unit price accepted, in minor units; with the largest quantity the total
/// still fits comfortably in 64 bits.
pub const MAX_UNIT_PRICE: i64 = 1_000_000_000_000;
pub const MAX_NOTE_CHARS: usize = 1000;

/// Body of `POST /orders`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    /// 1 to 200 characters; surrounding whitespace is trimmed.
    #[schema(example = "Mechanical keyboard", min_length = 1, max_length = 200)]
    pub product_name: String,
    /// 1 to 1000.
    #[schema(example = 2, minimum = 1, maximum = 1000)]
    pub quantity: i64,
    /// Price of one unit in the currency's minor unit (e.g. cents), 0 or more.
    #[schema(example = 12900, minimum = 0)]
    pub unit_price: i64,
    /// Up to 1000 characters (default empty).
    #[schema(example = "Leave it at the door", max_length = 1000)]
    #[serde(default)]
    pub note: Option<String>,
}

/// Fields that passed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrderFields {
    pub product_name: String,
    pub quantity: i32,
    pub unit_price: i64,
    pub note: String,
}

impl OrderInput {
    /// Checks every field and reports every broken rule at once.
    pub fn parse(self) -> Result<OrderFields, ApiError> {
        let mut broken = Map::new();
        let product_name = self.product_name.trim();
        if let Err(rule) = text::check(product_name, MAX_PRODUCT_NAME_CHARS, false, true) {
            broken.insert("product_name".into(), rule.into());
        }
        if !(1..=MAX_QUANTITY).contains(&self.quantity) {
            broken.insert(
                "quantity".into(),
                format!(
                    "must be between 1 and {MAX_QUANTITY}, got {}",
                    self.quantity
                )
                .into(),
            );
        }
        if !(0..=MAX_UNIT_PRICE).contains(&self.unit_price) {
            broken.insert(
                "unit_price".into(),
                format!(
                    "must be between 0 and {MAX_UNIT_PRICE} (minor units), got {}",
                    self.unit_price
                )
                .into(),
            );
        }
        let note = self.note.unwrap_or_default();
        if let Err(rule) = text::check(&note, MAX_NOTE_CHARS, true, false) {
            broken.insert("note".into(), rule.into());
        }
        if !broken.is_empty() {
            return Err(ApiError::invalid_fields(broken));
        }
        Ok(OrderFields {
            product_name: product_name.to_owned(),
            quantity: self.quantity as i32,
            unit_price: self.unit_price,
            note,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(product_name: &str, quantity: i64, unit_price: i64) -> OrderInput {
        OrderInput {
            product_name: product_name.into(),
            quantity,
            unit_price,
            note: None,
        }
    }

    #[test]
    fn product_names_are_counted_in_characters_not_bytes() {
        assert!(input(&"주".repeat(200), 1, 0).parse().is_ok());
        assert!(input(&"주".repeat(201), 1, 0).parse().is_err());
    }

    #[test]
    fn quantity_is_bounded_by_one_and_a_thousand() {
        assert!(input("tea", 0, 1).parse().is_err());
        assert!(input("tea", 1, 1).parse().is_ok());
        assert!(input("tea", 1000, 1).parse().is_ok());
        assert!(input("tea", 1001, 1).parse().is_err());
    }

    #[test]
    fn a_negative_price_is_refused_and_a_free_one_accepted() {
        assert!(input("tea", 1, -1).parse().is_err());
        assert!(input("tea", 1, 0).parse().is_ok());
    }

    #[test]
    fn every_broken_rule_is_reported_at_once() {
        let err = input(" ", 0, -5).parse().unwrap_err();
        let fields = &err.details.unwrap()["fields"];
        assert!(fields["product_name"].is_string());
        assert!(fields["quantity"].is_string());
        assert!(fields["unit_price"].is_string());
    }
}
