//! Enumerations known by name: a status, a level, a kind. Their names travel in events'
//! JSON, in read models' text columns and in query strings, and must be one list, so
//! [`named_enum!`](crate::named_enum) declares each name once, beside its variant, and
//! derives from it `ALL`, `as_str`, `parse`, `Display`, `TryFrom<String>` (what sqlx's
//! `try_from = "String"` reads a column with) and serde's spelling.

/// A name that is none of an enumeration's values.
#[derive(Debug, thiserror::Error)]
#[error("unknown {kind} name {name:?}")]
pub struct UnknownName {
    /// The enumeration's type.
    pub kind: &'static str,
    pub name: String,
}

/// Declares a fieldless enum whose variants are known by the names given:
///
/// ```
/// schemas::named_enum! {
///     /// Where a parcel is.
///     #[derive(Debug, Clone, Copy, PartialEq, Eq)]
///     pub enum Parcel {
///         /// On its way.
///         Moving = "moving" | "in_transit",
///         Arrived = "arrived",
///     }
/// }
/// assert_eq!(Parcel::parse("in_transit"), Some(Parcel::Moving));
/// assert_eq!(Parcel::Arrived.to_string(), "arrived");
/// assert_eq!(serde_json::to_string(&Parcel::Moving).unwrap(), "\"moving\"");
/// ```
///
/// The first name is the variant's own: serde writes and reads it, `as_str` gives it.
/// Further names (after `|`) are other names `parse` takes. `parse` compares exactly,
/// unless the enum is declared `any case` (`pub enum Level (any case) { ... }`). The
/// enum derives `Serialize` and `Deserialize` here; derive the rest (`JsonSchema`
/// included, which reads the same serde names) in the attributes given.
#[macro_export]
macro_rules! named_enum {
    (
        @define [$same:expr]
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(::serde::Serialize, ::serde::Deserialize)]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            $vis const ALL: [Self; [$($text),+].len()] = [$(Self::$variant),+];

            /// The value's name.
            $vis fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            /// The value named `text` (by its name or one of its other names).
            $vis fn parse(text: &str) -> Option<Self> {
                let same: fn(&str, &str) -> bool = $same;
                $(
                    if same(text, $text) $(|| same(text, $alias))* {
                        return Some(Self::$variant);
                    }
                )+
                None
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Read models keep the value as its name; this reads one back (a text column).
        impl ::std::convert::TryFrom<String> for $name {
            type Error = $crate::named::UnknownName;

            fn try_from(text: String) -> Result<Self, $crate::named::UnknownName> {
                Self::parse(&text).ok_or($crate::named::UnknownName {
                    kind: stringify!($name),
                    name: text,
                })
            }
        }
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident (any case) { $($body:tt)* }
    ) => {
        $crate::named_enum!(@define [|a: &str, b: &str| a.eq_ignore_ascii_case(b)]
            $(#[$meta])* $vis enum $name { $($body)* });
    };
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident { $($body:tt)* }
    ) => {
        $crate::named_enum!(@define [|a: &str, b: &str| a == b]
            $(#[$meta])* $vis enum $name { $($body)* });
    };
}

#[cfg(test)]
mod tests {
    crate::named_enum! {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Exact {
            One = "one" | "1",
            TwoWords = "two_words",
        }
    }

    crate::named_enum! {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Loose (any case) {
            Up = "UP",
        }
    }

    #[test]
    fn every_value_reads_back_from_its_name_in_text_and_in_json() {
        for value in Exact::ALL {
            assert_eq!(Exact::parse(value.as_str()), Some(value));
            assert_eq!(Exact::try_from(value.to_string()).unwrap(), value);
            let json = serde_json::to_string(&value).unwrap();
            assert_eq!(json, format!("\"{}\"", value.as_str()));
            assert_eq!(serde_json::from_str::<Exact>(&json).unwrap(), value);
        }
        assert_eq!(Exact::ALL, [Exact::One, Exact::TwoWords]);
    }

    #[test]
    fn other_names_parse_but_are_never_written() {
        assert_eq!(Exact::parse("1"), Some(Exact::One));
        assert_eq!(Exact::One.as_str(), "one");
        assert!(
            serde_json::from_str::<Exact>("\"1\"").is_err(),
            "JSON keeps to the names"
        );
    }

    #[test]
    fn names_compare_exactly_unless_declared_in_any_case() {
        assert_eq!(Exact::parse("ONE"), None);
        assert_eq!(Exact::parse("TwoWords"), None);
        assert_eq!(Loose::parse("up"), Some(Loose::Up));
        assert_eq!(Loose::ALL.map(Loose::as_str), ["UP"]);
        let unknown = Exact::try_from("three".to_owned()).unwrap_err();
        assert_eq!(unknown.to_string(), "unknown Exact name \"three\"");
    }
}
