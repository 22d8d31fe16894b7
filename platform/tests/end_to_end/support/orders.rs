//! Orders for tests: place, move and list them as a given account.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use super::{TestApp, accounts::Account, json};

/// A valid order body for `product`.
pub(crate) fn order_body(product: &str) -> Value {
    json!({ "product_name": product, "quantity": 2, "unit_price": 1250, "note": "" })
}

impl TestApp {
    /// Places an order for `product` as `account`, asserting a 201; returns `data`.
    pub(crate) async fn place_order(&self, account: &Account, product: &str) -> Value {
        let response = self
            .send_as(
                Some(account),
                Method::POST,
                "/api/v1/orders",
                Some(&order_body(product)),
            )
            .await;
        json(response, StatusCode::CREATED).await["data"].clone()
    }

    /// `POST /orders/{number}/{action}` as `account` (anonymous for `None`).
    pub(crate) async fn move_order(
        &self,
        account: Option<&Account>,
        number: i64,
        action: &str,
    ) -> Response {
        let path = format!("/api/v1/orders/{number}/{action}");
        self.send_as(account, Method::POST, &path, None).await
    }

    /// The `data` of `GET /orders?{query}` as `account`, once it reflects `position`.
    pub(crate) async fn list_orders(&self, account: &Account, query: &str, position: i64) -> Value {
        let path = format!("/api/v1/orders?{query}");
        json(
            self.get_as(Some(account), &path, position).await,
            StatusCode::OK,
        )
        .await["data"]
            .clone()
    }
}

/// The order number from the `data` of a command response.
pub(crate) fn number(data: &Value) -> i64 {
    data["number"].as_i64().expect("data has a numeric number")
}

/// The order numbers of a listing's `data`, in order.
pub(crate) fn numbers(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("data has items")
        .iter()
        .map(number)
        .collect()
}
