//! Public script input, parsed into valid values at the edge; every broken rule is named
//! by its field (`scripts[2].number`) in one `422`.

use schemas::prompts::Script;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use service_kit::ApiError;
use utoipa::ToSchema;

use crate::{prompts::input::refuse, text};

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_DESCRIPTION_CHARS: usize = 1_000;
pub const MAX_SCRIPTS: usize = 10;
pub const MAX_NUMBER: i64 = 10;
pub const MAX_SCRIPT_CHARS: usize = 3_000;

/// Body of `POST /public-scripts` and `PUT /public-scripts/{id}`: the public script whole.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicScriptInput {
    /// 1 to 100 characters on one line.
    #[schema(example = "Code review", min_length = 1, max_length = 100)]
    pub name: String,
    /// Up to 1,000 characters.
    #[schema(
        example = "Ask for a careful review, one file at a time.",
        max_length = 1000
    )]
    #[serde(default)]
    pub description: String,
    /// 1 to 10 scripts, each numbered 1 to 10, no number twice.
    #[schema(max_items = 10)]
    pub scripts: Vec<ScriptInput>,
}

/// One script of a public script.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScriptInput {
    /// Its place, 1 to 10, unique within the public script.
    #[schema(example = 1, minimum = 1, maximum = 10)]
    pub number: i64,
    /// 1 to 3,000 characters.
    #[schema(
        example = "You are a careful reviewer.",
        min_length = 1,
        max_length = 3000
    )]
    pub text: String,
}

/// Body of `PUT /public-scripts/{id}/order`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderInput {
    /// Every script's number, each once, in the new order: the first listed becomes
    /// number 1, the second number 2, and so on.
    #[schema(example = json!([2, 1, 3]))]
    pub order: Vec<i64>,
}

/// A public script's fields that passed validation, its scripts by number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublicScriptFields {
    pub name: String,
    pub description: String,
    pub scripts: Vec<Script>,
}

impl PublicScriptInput {
    pub fn parse(self) -> Result<PublicScriptFields, ApiError> {
        let mut broken = Map::new();
        let name = self.name.trim();
        if let Err(rule) = text::check(name, MAX_NAME_CHARS, false, true) {
            broken.insert("name".into(), rule.into());
        }
        if let Err(rule) = text::check(&self.description, MAX_DESCRIPTION_CHARS, true, false) {
            broken.insert("description".into(), rule.into());
        }
        let count = self.scripts.len();
        if !(1..=MAX_SCRIPTS).contains(&count) {
            let rule = format!("must hold 1 to {MAX_SCRIPTS} scripts, got {count}");
            broken.insert("scripts".into(), rule.into());
        }
        let numbers: Vec<i64> = self.scripts.iter().map(|s| s.number).collect();
        for (index, script) in self.scripts.iter().enumerate() {
            let field = format!("scripts[{index}]");
            numbered(&mut broken, &format!("{field}.number"), &numbers, index);
            if let Err(rule) = text::check(&script.text, MAX_SCRIPT_CHARS, true, true) {
                broken.insert(format!("{field}.text"), rule.into());
            }
        }
        refuse(broken)?;
        let mut scripts: Vec<Script> = self
            .scripts
            .into_iter()
            .map(|script| Script {
                number: script.number as i16,
                text: script.text,
            })
            .collect();
        scripts.sort_by_key(|script| script.number);
        Ok(PublicScriptFields {
            name: name.to_owned(),
            description: self.description,
            scripts,
        })
    }
}

impl OrderInput {
    /// The numbers in their new order; whether they are the script's is its to say.
    pub fn parse(self) -> Result<Vec<i16>, ApiError> {
        let mut broken = Map::new();
        if !(1..=MAX_SCRIPTS).contains(&self.order.len()) {
            let rule = format!(
                "must list 1 to {MAX_SCRIPTS} numbers, got {}",
                self.order.len()
            );
            broken.insert("order".into(), rule.into());
        }
        for index in 0..self.order.len() {
            numbered(&mut broken, &format!("order[{index}]"), &self.order, index);
        }
        refuse(broken)?;
        Ok(self.order.into_iter().map(|n| n as i16).collect())
    }
}

/// Names `field` unless `numbers[index]` is 1 to 10 and not listed before it.
fn numbered(broken: &mut Map<String, Value>, field: &str, numbers: &[i64], index: usize) {
    let number = numbers[index];
    let rule = if !(1..=MAX_NUMBER).contains(&number) {
        format!("must be 1 to {MAX_NUMBER}, got {number}")
    } else if numbers[..index].contains(&number) {
        format!("repeats number {number}")
    } else {
        return;
    };
    broken.insert(field.to_owned(), rule.into());
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(body: Value) -> Result<PublicScriptFields, ApiError> {
        serde_json::from_value::<PublicScriptInput>(body)
            .unwrap()
            .parse()
    }

    fn fields(err: ApiError) -> Value {
        assert_eq!(err.status, 422);
        err.details.unwrap()["fields"].clone()
    }

    #[test]
    fn scripts_are_kept_by_number_whatever_order_they_came_in() {
        let parsed = parse(json!({
            "name": " Review ", "scripts": [
                {"number": 3, "text": "third"}, {"number": 1, "text": "first"},
            ],
        }))
        .unwrap();
        assert_eq!(parsed.name, "Review");
        let numbers: Vec<i16> = parsed.scripts.iter().map(|s| s.number).collect();
        assert_eq!(numbers, [1, 3]);
    }

    #[test]
    fn numbers_outside_one_to_ten_or_repeated_are_named_by_their_place() {
        let err = parse(json!({
            "name": "n", "scripts": [
                {"number": 1, "text": "a"}, {"number": 11, "text": "b"},
                {"number": 1, "text": "c"}, {"number": 0, "text": ""},
            ],
        }))
        .unwrap_err();
        let fields = fields(err);
        assert_eq!(fields["scripts[1].number"], "must be 1 to 10, got 11");
        assert_eq!(fields["scripts[2].number"], "repeats number 1");
        assert!(fields["scripts[3].number"].is_string());
        assert_eq!(fields["scripts[3].text"], "must not be empty");
        assert!(fields.get("scripts[0].number").is_none(), "{fields}");
    }

    #[test]
    fn a_public_script_holds_one_to_ten_scripts() {
        let eleven: Vec<Value> = (1..=11)
            .map(|n| json!({"number": n.min(10), "text": "t"}))
            .collect();
        let fields = fields(parse(json!({"name": "n", "scripts": eleven})).unwrap_err());
        assert_eq!(fields["scripts"], "must hold 1 to 10 scripts, got 11");
        let none = parse(json!({"name": "n", "scripts": []})).unwrap_err();
        assert!(none.details.unwrap()["fields"]["scripts"].is_string());
    }

    #[test]
    fn an_order_lists_each_number_once() {
        let order = |order: Vec<i64>| OrderInput { order }.parse();
        assert_eq!(order(vec![2, 1]).unwrap(), [2, 1]);
        let fields = fields(order(vec![2, 2, 12]).unwrap_err());
        assert_eq!(fields["order[1]"], "repeats number 2");
        assert!(fields["order[2]"].is_string());
    }
}
