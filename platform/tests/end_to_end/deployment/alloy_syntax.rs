//! Alloy's configuration syntax, read far enough to check what a configuration names:
//! blocks with their labels, attributes whose values are strings, references, lists or
//! objects. Function calls and arithmetic are not read (the configuration has none).

use std::{iter::Peekable, vec::IntoIter};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    String(String),
    /// A name used as a value: a component's export (`loki.write.x.receiver`), a
    /// number or a boolean.
    Reference(String),
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    pub(super) fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(text) => Some(text),
            _ => None,
        }
    }
}

/// A block (`loki.write "loki" { ... }`); the file itself is the block with no name.
#[derive(Debug, Default)]
pub(super) struct Block {
    pub(super) name: String,
    pub(super) label: Option<String>,
    pub(super) attributes: Vec<(String, Value)>,
    pub(super) blocks: Vec<Block>,
}

impl Block {
    pub(super) fn attribute(&self, name: &str) -> Option<&Value> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// A string attribute the block must have.
    pub(super) fn string(&self, name: &str) -> &str {
        self.attribute(name)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{} has no string {name}", self.name))
    }

    pub(super) fn blocks<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Block> + use<'a> {
        let name = name.to_owned();
        self.blocks.iter().filter(move |block| block.name == name)
    }

    /// The one block of this name (and label, if given).
    pub(super) fn block(&self, name: &str, label: Option<&str>) -> &Block {
        let mut found = self
            .blocks(name)
            .filter(|block| label.is_none() || block.label.as_deref() == label);
        let block = found
            .next()
            .unwrap_or_else(|| panic!("no block {name} {label:?} in {}", self.name));
        assert!(found.next().is_none(), "more than one {name} {label:?}");
        block
    }
}

#[derive(Debug, PartialEq)]
enum Token {
    Name(String),
    String(String),
    Punct(char),
}

fn string(chars: &mut Peekable<std::str::Chars<'_>>, quote: char) -> String {
    let mut text = String::new();
    while let Some(c) = chars.next() {
        match c {
            '\\' if quote == '"' => match chars.next() {
                Some('n') => text.push('\n'),
                Some('t') => text.push('\t'),
                Some(other) => text.push(other),
                None => break,
            },
            _ if c == quote => return text,
            _ => text.push(c),
        }
    }
    panic!("an unterminated string: {text}")
}

fn tokens(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                chars.by_ref().find(|&c| c == '\n');
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' | '`' => tokens.push(Token::String(string(&mut chars, c))),
            '{' | '}' | '[' | ']' | '=' | ',' | '(' | ')' => tokens.push(Token::Punct(c)),
            _ if c.is_whitespace() => {}
            _ => {
                let mut name = String::from(c);
                while let Some(&next) = chars.peek() {
                    if !(next.is_alphanumeric() || "_.-".contains(next)) {
                        break;
                    }
                    name.push(next);
                    chars.next();
                }
                tokens.push(Token::Name(name));
            }
        }
    }
    tokens
}

type Tokens = Peekable<IntoIter<Token>>;

fn value(tokens: &mut Tokens) -> Value {
    match tokens.next() {
        Some(Token::String(text)) => Value::String(text),
        Some(Token::Name(name)) => {
            assert_ne!(
                tokens.peek(),
                Some(&Token::Punct('(')),
                "a call: {name}(...)"
            );
            Value::Reference(name)
        }
        Some(Token::Punct('[')) => {
            let mut items = Vec::new();
            while tokens.next_if_eq(&Token::Punct(']')).is_none() {
                items.push(value(tokens));
                tokens.next_if_eq(&Token::Punct(','));
            }
            Value::List(items)
        }
        Some(Token::Punct('{')) => {
            let mut entries = Vec::new();
            while tokens.next_if_eq(&Token::Punct('}')).is_none() {
                let key = match tokens.next() {
                    Some(Token::Name(key) | Token::String(key)) => key,
                    other => panic!("an object key expected, found {other:?}"),
                };
                assert_eq!(tokens.next(), Some(Token::Punct('=')), "{key} =");
                entries.push((key, value(tokens)));
                tokens.next_if_eq(&Token::Punct(','));
            }
            Value::Object(entries)
        }
        other => panic!("a value expected, found {other:?}"),
    }
}

/// Reads a block's content up to its `}` (the file's, to the end).
fn body(tokens: &mut Tokens, block: &mut Block) {
    let file = block.name.is_empty();
    loop {
        let name = match tokens.next() {
            None if file => return,
            Some(Token::Punct('}')) if !file => return,
            Some(Token::Name(name)) => name,
            other => panic!("a name expected in {:?}, found {other:?}", block.name),
        };
        if tokens.next_if_eq(&Token::Punct('=')).is_some() {
            block.attributes.push((name, value(tokens)));
            continue;
        }
        let label = match tokens.next() {
            Some(Token::String(label)) => {
                assert_eq!(
                    tokens.next(),
                    Some(Token::Punct('{')),
                    "{name} {label:?} {{"
                );
                Some(label)
            }
            Some(Token::Punct('{')) => None,
            other => panic!("{name}: `=` or a block expected, found {other:?}"),
        };
        let mut inner = Block {
            name,
            label,
            ..Block::default()
        };
        body(tokens, &mut inner);
        block.blocks.push(inner);
    }
}

pub(super) fn parse(text: &str) -> Block {
    let mut file = Block::default();
    body(&mut tokens(text).into_iter().peekable(), &mut file);
    file
}
