//! A prompt profile and its references as their events describe them, and the dialogue a
//! profile gives: the scripts a user pastes into a chat. Pure, and shared: command-api
//! decides on these states, query-api folds them as they were at a position and writes
//! the dialogues of live and past profiles alike, so both read the events one way.
//!
//! Layout:
//! - [`profile`]: the [`Profile`] state and `evolve`.
//! - [`reference`]: reference books and texts, and `evolve` for each.
//! - [`dialogue`]: the scripts of a profile and its references, as texts and as chat
//!   messages.
//! - [`templates`]: the English and Korean wording of the scripts.

pub mod dialogue;
pub mod profile;
pub mod reference;
pub mod templates;

pub use dialogue::{Dialogue, Message, Role};
pub use profile::Profile;
pub use reference::{Book, Data};
