//! The order aggregate as pure functions: `decide` turns a command into events given the
//! current state (including who may do what), `evolve` folds an event into the state.
//! No I/O here.

use schemas::orders::{OrderCancelled, OrderEvent, OrderPlaced, OrderStatus, OrderStatusChanged};
use serde::Deserialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::input::OrderFields;
pub use crate::command::Actor;

/// An order as its own stream describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub number: i64,
    pub member_id: Uuid,
    pub product_name: String,
    pub quantity: i32,
    pub unit_price: i64,
    pub note: String,
    pub status: OrderStatus,
    pub placed_at: OffsetDateTime,
    pub version: i64,
}

impl Order {
    /// Quantity times unit price, in minor units.
    pub fn total_price(&self) -> i64 {
        i64::from(self.quantity) * self.unit_price
    }
}

/// A move of the status machine, named as in `POST /orders/{number}/{action}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrderAction {
    Pay,
    Ship,
    Deliver,
    Cancel,
}

impl OrderAction {
    pub const ALL: [Self; 4] = [Self::Pay, Self::Ship, Self::Deliver, Self::Cancel];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pay => "pay",
            Self::Ship => "ship",
            Self::Deliver => "deliver",
            Self::Cancel => "cancel",
        }
    }

    /// The status this action leads to from `from`, if the machine allows it.
    pub fn target(self, from: OrderStatus) -> Option<OrderStatus> {
        use OrderStatus::*;
        match (self, from) {
            (Self::Pay, Placed) => Some(Paid),
            (Self::Ship, Paid) => Some(Shipped),
            (Self::Deliver, Shipped) => Some(Delivered),
            (Self::Cancel, Placed | Paid) => Some(Cancelled),
            _ => None,
        }
    }

    /// Shipping and delivery are the shop's to record; paying and cancelling are the
    /// member's, and an admin may do them on the member's behalf.
    fn allowed(self, actor: Actor, order: &Order) -> bool {
        match self {
            Self::Ship | Self::Deliver => actor.admin,
            Self::Pay | Self::Cancel => actor.admin || actor.user_id == order.member_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderCommand {
    PlaceOrder {
        number: i64,
        member_id: Uuid,
        fields: OrderFields,
        at: OffsetDateTime,
    },
    Move {
        action: OrderAction,
        by: Actor,
        at: OffsetDateTime,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("the order exists already")]
    AlreadyExists,
    #[error("no such order")]
    NotFound,
    #[error("only {0} may {1} this order")]
    Forbidden(&'static str, &'static str),
    #[error("an order that is {current} cannot {action}")]
    InvalidTransition {
        current: OrderStatus,
        action: &'static str,
    },
}

/// The events a command produces, or why it is refused. A member who may not act on the
/// order learns that before anything about its status.
pub fn decide(state: Option<&Order>, command: OrderCommand) -> Result<Vec<OrderEvent>, OrderError> {
    match (state, command) {
        (
            None,
            OrderCommand::PlaceOrder {
                number,
                member_id,
                fields,
                at,
            },
        ) => Ok(vec![OrderEvent::Placed(OrderPlaced {
            number,
            member_id,
            product_name: fields.product_name,
            quantity: fields.quantity,
            unit_price: fields.unit_price,
            note: fields.note,
            placed_at: at,
        })]),
        (Some(_), OrderCommand::PlaceOrder { .. }) => Err(OrderError::AlreadyExists),
        (None, OrderCommand::Move { .. }) => Err(OrderError::NotFound),
        (Some(order), OrderCommand::Move { action, by, at }) => {
            if !action.allowed(by, order) {
                let who = match action {
                    OrderAction::Ship | OrderAction::Deliver => "an admin",
                    OrderAction::Pay | OrderAction::Cancel => {
                        "the member who placed it or an admin"
                    }
                };
                return Err(OrderError::Forbidden(who, action.as_str()));
            }
            let to = action
                .target(order.status)
                .ok_or(OrderError::InvalidTransition {
                    current: order.status,
                    action: action.as_str(),
                })?;
            let event = if to == OrderStatus::Cancelled {
                OrderEvent::Cancelled(OrderCancelled {
                    number: order.number,
                    member_id: order.member_id,
                    from: order.status,
                    by: by.user_id,
                    cancelled_at: at,
                })
            } else {
                OrderEvent::StatusChanged(OrderStatusChanged {
                    number: order.number,
                    member_id: order.member_id,
                    from: order.status,
                    to,
                    by: by.user_id,
                    changed_at: at,
                })
            };
            Ok(vec![event])
        }
    }
}

/// The state after one more event, which is at `version` in the stream.
pub fn evolve(state: Option<Order>, event: &OrderEvent, version: i64) -> Option<Order> {
    match (state, event) {
        (_, OrderEvent::Placed(e)) => Some(Order {
            number: e.number,
            member_id: e.member_id,
            product_name: e.product_name.clone(),
            quantity: e.quantity,
            unit_price: e.unit_price,
            note: e.note.clone(),
            status: OrderStatus::Placed,
            placed_at: e.placed_at,
            version,
        }),
        (Some(order), OrderEvent::StatusChanged(e)) => Some(Order {
            status: e.to,
            version,
            ..order
        }),
        (Some(order), OrderEvent::Cancelled(_)) => Some(Order {
            status: OrderStatus::Cancelled,
            version,
            ..order
        }),
        (None, _) => None,
    }
}

impl crate::command::Aggregate for Order {
    type Event = OrderEvent;

    fn evolve(state: Option<Self>, event: &OrderEvent, version: i64) -> Option<Self> {
        evolve(state, event, version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{UNNUMBERED, numbered::assert_numbered_as_stored};
    use OrderStatus::*;

    const MEMBER: Uuid = Uuid::from_u128(1);
    const OTHER: Uuid = Uuid::from_u128(2);
    const ADMIN: Uuid = Uuid::from_u128(3);

    fn at() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn member() -> Actor {
        Actor {
            user_id: MEMBER,
            admin: false,
        }
    }

    fn other() -> Actor {
        Actor {
            user_id: OTHER,
            admin: false,
        }
    }

    fn admin() -> Actor {
        Actor {
            user_id: ADMIN,
            admin: true,
        }
    }

    fn place(number: i64) -> OrderCommand {
        let fields = OrderFields {
            product_name: "Tea".into(),
            quantity: 3,
            unit_price: 250,
            note: String::new(),
        };
        OrderCommand::PlaceOrder {
            number,
            member_id: MEMBER,
            fields,
            at: at(),
        }
    }

    fn placed() -> Order {
        let events = decide(None, place(1)).unwrap();
        evolve(None, &events[0], 1).unwrap()
    }

    /// An order brought to `status` by the moves an admin may make.
    fn order_in(status: OrderStatus) -> Order {
        let path: &[OrderAction] = match status {
            Placed => &[],
            Paid => &[OrderAction::Pay],
            Shipped => &[OrderAction::Pay, OrderAction::Ship],
            Delivered => &[OrderAction::Pay, OrderAction::Ship, OrderAction::Deliver],
            Cancelled => &[OrderAction::Cancel],
        };
        path.iter().fold(placed(), |order, action| {
            let version = order.version + 1;
            let events = decide(Some(&order), mv(*action, admin())).unwrap();
            evolve(Some(order), &events[0], version).unwrap()
        })
    }

    fn mv(action: OrderAction, by: Actor) -> OrderCommand {
        OrderCommand::Move {
            action,
            by,
            at: at(),
        }
    }

    #[test]
    fn a_placed_order_is_numbered_where_the_store_numbers_it() {
        assert_numbered_as_stored::<Order>(decide(None, place(UNNUMBERED)).unwrap());
    }

    #[test]
    fn placing_an_order_records_it_as_placed() {
        let order = placed();
        assert_eq!(
            (order.status, order.version, order.total_price()),
            (Placed, 1, 750)
        );
    }

    #[test]
    fn every_move_of_the_machine_is_allowed_or_refused_as_specified() {
        let allowed = [
            (Placed, OrderAction::Pay, Paid),
            (Placed, OrderAction::Cancel, Cancelled),
            (Paid, OrderAction::Ship, Shipped),
            (Paid, OrderAction::Cancel, Cancelled),
            (Shipped, OrderAction::Deliver, Delivered),
        ];
        for from in OrderStatus::ALL {
            for action in OrderAction::ALL {
                let expected = allowed
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to);
                let order = order_in(from);
                let result = decide(Some(&order), mv(action, admin()));
                match expected {
                    Some(to) => {
                        let events = result.unwrap();
                        let after = evolve(Some(order), &events[0], 9).unwrap();
                        assert_eq!(after.status, to, "{from} --{action:?}-->");
                    }
                    None => assert_eq!(
                        result,
                        Err(OrderError::InvalidTransition {
                            current: from,
                            action: action.as_str()
                        }),
                        "{from} --{action:?}--> must be refused"
                    ),
                }
            }
        }
    }

    #[test]
    fn a_cancellation_records_the_status_it_left() {
        let order = order_in(Paid);
        let events = decide(Some(&order), mv(OrderAction::Cancel, member())).unwrap();
        assert!(matches!(
            &events[0],
            OrderEvent::Cancelled(OrderCancelled { from: Paid, by, .. }) if *by == MEMBER
        ));
    }

    #[test]
    fn the_member_pays_and_cancels_but_another_member_may_not() {
        let order = placed();
        assert!(decide(Some(&order), mv(OrderAction::Pay, member())).is_ok());
        assert!(decide(Some(&order), mv(OrderAction::Cancel, member())).is_ok());
        for action in OrderAction::ALL {
            assert!(matches!(
                decide(Some(&order), mv(action, other())),
                Err(OrderError::Forbidden(..))
            ));
        }
    }

    #[test]
    fn only_an_admin_ships_and_delivers() {
        let paid = order_in(Paid);
        assert!(matches!(
            decide(Some(&paid), mv(OrderAction::Ship, member())),
            Err(OrderError::Forbidden("an admin", "ship"))
        ));
        assert!(decide(Some(&paid), mv(OrderAction::Ship, admin())).is_ok());
        let shipped = order_in(Shipped);
        assert!(matches!(
            decide(Some(&shipped), mv(OrderAction::Deliver, member())),
            Err(OrderError::Forbidden("an admin", "deliver"))
        ));
    }

    #[test]
    fn a_forbidden_member_learns_nothing_of_the_status() {
        let delivered = order_in(Delivered);
        assert!(matches!(
            decide(Some(&delivered), mv(OrderAction::Pay, other())),
            Err(OrderError::Forbidden(..))
        ));
    }

    #[test]
    fn moving_a_missing_order_is_not_found() {
        assert_eq!(
            decide(None, mv(OrderAction::Pay, admin())),
            Err(OrderError::NotFound)
        );
    }
}
