//! The wording of a dialogue's scripts, in English and in Korean.

use schemas::prompts::Language;

use crate::dialogue::{Citation, Passage};

/// Who the user is, and at what level to answer them.
pub fn who(language: Language, major: &str, level: i16) -> String {
    match language {
        Language::English => format!(
            "I study {major} and I am {}. Answer me at a level I can follow: assume what a \
             student at my stage knows, and explain anything beyond it step by step.",
            english_level(level)
        ),
        Language::Korean => format!(
            "저는 {major}{} 공부하는 {}입니다. 제 수준에서 이해할 수 있도록 답해 주시고, \
             그보다 어려운 내용은 단계별로 풀어서 설명해 주세요.",
            object_particle(major),
            korean_level(level)
        ),
    }
}

/// The books to draw on, numbered.
pub fn books(language: Language, books: &[Citation<'_>]) -> String {
    let (heading, line): (&str, fn(&Citation<'_>) -> String) = match language {
        Language::English => ("Draw on these books when you answer:", |book| {
            format!("{} by {}", book.title, book.author)
        }),
        Language::Korean => ("답할 때 다음 책들을 참고해 주세요:", |book| {
            format!("{}, 『{}』", book.author, book.title)
        }),
    };
    let lines: Vec<String> = (1..)
        .zip(books)
        .map(|(n, book)| format!("{n}. {}", line(book)))
        .collect();
    format!("{heading}\n{}", lines.join("\n"))
}

/// The announcement of `count` texts to come one message each.
pub fn announce(language: Language, count: usize) -> String {
    match language {
        Language::English => {
            let texts = if count == 1 { "text" } else { "texts" };
            format!(
                "I will now send {count} reference {texts}, one per message, in order. Until I \
                 have sent all of them, reply only with \"OK\"."
            )
        }
        Language::Korean => format!(
            "이제 참고 자료 {count}개를 한 메시지에 하나씩 순서대로 보내겠습니다. 모두 보낼 \
             때까지 \"확인\"이라고만 답해 주세요."
        ),
    }
}

/// Text `number` of `count`, on its own.
pub fn one_passage(
    language: Language,
    number: usize,
    count: usize,
    passage: &Passage<'_>,
) -> String {
    let heading = match language {
        Language::English => format!("Reference text {number} of {count}"),
        Language::Korean => format!("참고 자료 {number}/{count}"),
    };
    format!("{heading}: {}\n\n{}", passage.title, passage.text)
}

/// Every text in one message, numbered.
pub fn all_passages(language: Language, passages: &[Passage<'_>]) -> String {
    let heading = match language {
        Language::English => "Here are my reference texts:",
        Language::Korean => "제 참고 자료입니다:",
    };
    let parts: Vec<String> = (1..)
        .zip(passages)
        .map(|(n, passage)| format!("[{n}] {}\n{}", passage.title, passage.text))
        .collect();
    format!("{heading}\n\n{}", parts.join("\n\n"))
}

/// The instruction to answer from the references only.
pub fn only_references(language: Language) -> String {
    match language {
        Language::English => "Answer only from the books and reference texts I have given you. \
             If they do not hold the answer, say so rather than answering from anything else."
            .into(),
        Language::Korean => "제가 알려 드린 책과 참고 자료의 내용만으로 답해 주세요. 그 안에 \
             답이 없으면 다른 지식으로 답하지 말고 없다고 말해 주세요."
            .into(),
    }
}

/// The year of study in English: 0 before university, 1 to 4 the undergraduate year, 5 a
/// graduate.
fn english_level(level: i16) -> String {
    match level {
        ..=0 => "not yet at university".into(),
        1 => "in my first year of university".into(),
        2 => "in my second year of university".into(),
        3 => "in my third year of university".into(),
        4 => "in my fourth year of university".into(),
        _ => "a graduate student".into(),
    }
}

fn korean_level(level: i16) -> String {
    match level {
        ..=0 => "아직 대학에 입학하지 않은 학생".into(),
        1..=4 => format!("대학교 {level}학년 학생"),
        _ => "대학원생".into(),
    }
}

/// The object particle after `word`: 을 after a final consonant, 를 after a vowel, and
/// both spelled out after a word that does not end in Hangul.
fn object_particle(word: &str) -> &'static str {
    match word.chars().last().map(u32::from) {
        Some(code @ 0xAC00..=0xD7A3) if (code - 0xAC00) % 28 != 0 => "을",
        Some(0xAC00..=0xD7A3) => "를",
        _ => "을(를)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_year_of_study_has_its_words() {
        let english: Vec<String> = (0..=5).map(english_level).collect();
        assert_eq!(english[0], "not yet at university");
        assert_eq!(english[4], "in my fourth year of university");
        assert_eq!(english[5], "a graduate student");
        assert_eq!(korean_level(3), "대학교 3학년 학생");
        assert_eq!(korean_level(5), "대학원생");
    }

    #[test]
    fn the_korean_object_particle_follows_the_last_syllable() {
        assert_eq!(object_particle("물리학"), "을");
        assert_eq!(object_particle("경제"), "를");
        assert_eq!(object_particle("Physics"), "을(를)");
        assert!(who(Language::Korean, "경제", 1).starts_with("저는 경제를 공부하는"));
    }
}
