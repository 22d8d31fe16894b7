//! The dialogue of a profile: the ordered scripts a user pastes into a chat, or sends to
//! a chat-completion API as they are.
//!
//! In order: who the user is and at what level to answer; the books to draw on; the
//! reference texts (all in one message, or, when the profile says they come in sequence,
//! announced and then one message each, numbered); and, when the profile asks for it and
//! there is something to keep to, the instruction to answer from those references only.
//! What the assistant is told to do is a system message; the texts are the user's. The
//! same profile and references always give the same dialogue.

use schemas::prompts::{Language, ProfileSettings};
use serde::Serialize;

use crate::templates;

/// Who says a message, in a chat-completion request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
}

/// One message of a chat-completion request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

/// What a profile says of its user, as far as its dialogue is concerned.
#[derive(Debug, Clone, Copy)]
pub struct Asker<'a> {
    pub language: Language,
    pub major: &'a str,
    pub understanding_level: i16,
    pub only_references: bool,
    pub data_in_sequence: bool,
}

impl<'a> From<&'a ProfileSettings> for Asker<'a> {
    fn from(settings: &'a ProfileSettings) -> Self {
        Self {
            language: settings.language,
            major: &settings.major,
            understanding_level: settings.understanding_level,
            only_references: settings.only_references,
            data_in_sequence: settings.data_in_sequence,
        }
    }
}

/// A linked book, as a dialogue cites it.
#[derive(Debug, Clone, Copy)]
pub struct Citation<'a> {
    pub author: &'a str,
    pub title: &'a str,
}

/// A linked reference text, as a dialogue carries it.
#[derive(Debug, Clone, Copy)]
pub struct Passage<'a> {
    pub title: &'a str,
    pub text: &'a str,
}

/// The messages of a profile's dialogue, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialogue {
    pub messages: Vec<Message>,
}

impl Dialogue {
    /// The dialogue of `asker` with its linked `books` and `passages`, in their order.
    pub fn write(asker: &Asker<'_>, books: &[Citation<'_>], passages: &[Passage<'_>]) -> Self {
        let language = asker.language;
        let mut messages = vec![system(templates::who(
            language,
            asker.major,
            asker.understanding_level,
        ))];
        if !books.is_empty() {
            messages.push(system(templates::books(language, books)));
        }
        if asker.data_in_sequence && !passages.is_empty() {
            messages.push(user(templates::announce(language, passages.len())));
            let count = passages.len();
            for (number, passage) in (1..).zip(passages) {
                messages.push(user(templates::one_passage(
                    language, number, count, passage,
                )));
            }
        } else if !passages.is_empty() {
            messages.push(user(templates::all_passages(language, passages)));
        }
        // With nothing linked, "only these references" would forbid every answer.
        if asker.only_references && !(books.is_empty() && passages.is_empty()) {
            messages.push(system(templates::only_references(language)));
        }
        Self { messages }
    }

    /// The messages' texts, the scripts to paste one after another.
    pub fn scripts(&self) -> Vec<String> {
        self.messages.iter().map(|m| m.content.clone()).collect()
    }
}

fn system(content: String) -> Message {
    Message {
        role: Role::System,
        content,
    }
}

fn user(content: String) -> Message {
    Message {
        role: Role::User,
        content,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asker(language: Language, only: bool, in_sequence: bool) -> Asker<'static> {
        Asker {
            language,
            major: "Physics",
            understanding_level: 2,
            only_references: only,
            data_in_sequence: in_sequence,
        }
    }

    const BOOKS: [Citation<'static>; 2] = [
        Citation {
            author: "Feynman",
            title: "Lectures on Physics",
        },
        Citation {
            author: "Griffiths",
            title: "Introduction to Electrodynamics",
        },
    ];
    const PASSAGES: [Passage<'static>; 2] = [
        Passage {
            title: "Maxwell",
            text: "Four equations.",
        },
        Passage {
            title: "Gauss",
            text: "Flux and charge.",
        },
    ];

    #[test]
    fn a_profile_alone_gives_one_system_message_saying_who_asks() {
        let dialogue = Dialogue::write(&asker(Language::English, true, true), &[], &[]);
        assert_eq!(
            dialogue.messages.len(),
            1,
            "nothing to keep to: no instruction"
        );
        assert_eq!(dialogue.messages[0].role, Role::System);
        let who = &dialogue.messages[0].content;
        assert!(
            who.contains("Physics") && who.contains("second year"),
            "{who}"
        );
    }

    #[test]
    fn texts_in_sequence_are_announced_then_sent_one_per_message_numbered() {
        let dialogue = Dialogue::write(&asker(Language::English, true, true), &BOOKS, &PASSAGES);
        let roles: Vec<Role> = dialogue.messages.iter().map(|m| m.role).collect();
        use Role::{System, User};
        assert_eq!(roles, [System, System, User, User, User, System]);
        let scripts = dialogue.scripts();
        assert!(
            scripts[1].contains("1. Lectures on Physics by Feynman"),
            "{}",
            scripts[1]
        );
        assert!(scripts[1].contains("2. Introduction to Electrodynamics by Griffiths"));
        assert!(scripts[2].contains("2 reference texts"), "{}", scripts[2]);
        assert!(
            scripts[3].starts_with("Reference text 1 of 2: Maxwell"),
            "{}",
            scripts[3]
        );
        assert!(scripts[4].starts_with("Reference text 2 of 2: Gauss"));
        assert!(scripts[4].ends_with("Flux and charge."));
        assert!(scripts[5].contains("only from the books and reference texts"));
    }

    #[test]
    fn texts_not_in_sequence_travel_together_and_no_instruction_is_added_unasked() {
        let dialogue = Dialogue::write(&asker(Language::English, false, false), &[], &PASSAGES);
        let scripts = dialogue.scripts();
        assert_eq!(scripts.len(), 2);
        assert!(
            scripts[1].contains("[1] Maxwell\nFour equations."),
            "{}",
            scripts[1]
        );
        assert!(scripts[1].contains("[2] Gauss\nFlux and charge."));
    }

    #[test]
    fn a_korean_profile_is_written_in_korean() {
        let dialogue = Dialogue::write(&asker(Language::Korean, true, true), &BOOKS, &PASSAGES);
        let scripts = dialogue.scripts();
        assert!(scripts[0].contains("대학교 2학년"), "{}", scripts[0]);
        assert!(
            scripts[1].contains("Feynman, 『Lectures on Physics』"),
            "{}",
            scripts[1]
        );
        assert!(scripts[2].contains("2개"), "{}", scripts[2]);
        assert!(
            scripts[3].starts_with("참고 자료 1/2: Maxwell"),
            "{}",
            scripts[3]
        );
        assert!(
            scripts[5].contains("참고 자료의 내용만으로"),
            "{}",
            scripts[5]
        );
    }

    #[test]
    fn the_same_profile_and_references_always_give_the_same_dialogue() {
        let write = || Dialogue::write(&asker(Language::Korean, true, false), &BOOKS, &PASSAGES);
        assert_eq!(write(), write());
    }
}
