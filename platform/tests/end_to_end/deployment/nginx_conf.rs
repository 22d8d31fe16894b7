//! nginx.conf read the way nginx reads it, far enough to say which location a request
//! reaches, where that location sends it, how large a body it takes and what a `map`
//! makes of a value.

use regex::Regex;

/// One directive: its name, its arguments (quotes removed) and, if it opens a block, the
/// directives inside.
#[derive(Debug)]
pub(super) struct Directive {
    pub(super) name: String,
    pub(super) args: Vec<String>,
    pub(super) block: Vec<Directive>,
}

#[derive(Debug, PartialEq)]
enum Token {
    Word(String),
    Open,
    Close,
    End,
}

fn tokens(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '{' => tokens.push(Token::Open),
            '}' => tokens.push(Token::Close),
            ';' => tokens.push(Token::End),
            '\'' | '"' => {
                let mut word = String::new();
                while let Some(next) = chars.next() {
                    match next {
                        // nginx unescapes these few; any other backslash stays.
                        '\\' => match chars.next() {
                            Some('n') => word.push('\n'),
                            Some('t') => word.push('\t'),
                            Some('r') => word.push('\r'),
                            Some(quoted @ ('"' | '\'' | '\\')) => word.push(quoted),
                            other => word.extend(['\\'].into_iter().chain(other)),
                        },
                        _ if next == c => break,
                        _ => word.push(next),
                    }
                }
                tokens.push(Token::Word(word));
            }
            _ if c.is_whitespace() => {}
            _ => {
                let mut word = String::from(c);
                while let Some(&next) = chars.peek() {
                    // `${name}` stays inside the word; any other brace ends it.
                    let variable = next == '{' && word.ends_with('$');
                    if next.is_whitespace() || ";}".contains(next) || (next == '{' && !variable) {
                        break;
                    }
                    word.push(next);
                    chars.next();
                    if variable {
                        word.extend(chars.by_ref().take_while(|&c| c != '}'));
                        word.push('}');
                    }
                }
                tokens.push(Token::Word(word));
            }
        }
    }
    tokens
}

fn directives(tokens: &mut std::vec::IntoIter<Token>) -> Vec<Directive> {
    let mut parsed = Vec::new();
    let mut words = Vec::new();
    while let Some(token) = tokens.next() {
        match token {
            Token::Word(word) => words.push(word),
            Token::End | Token::Open => {
                let block = if token == Token::Open {
                    directives(tokens)
                } else {
                    Vec::new()
                };
                let mut words = std::mem::take(&mut words).into_iter();
                let name = words.next().expect("a directive has a name");
                parsed.push(Directive {
                    name,
                    args: words.collect(),
                    block,
                });
            }
            Token::Close => break,
        }
    }
    assert!(words.is_empty(), "a directive without `;`: {words:?}");
    parsed
}

pub(super) fn parse(text: &str) -> Vec<Directive> {
    directives(&mut tokens(text).into_iter())
}

/// The directives named `name` among `directives`.
pub(super) fn named<'a>(
    directives: &'a [Directive],
    name: &str,
) -> impl Iterator<Item = &'a Directive> + use<'a> {
    let name = name.to_owned();
    directives.iter().filter(move |d| d.name == name)
}

/// The nginx configuration: its `http` block and the one `server` in it.
pub(super) struct Nginx {
    http: Vec<Directive>,
}

/// The location a request reached, with everything that applies to it.
pub(super) struct Route<'a> {
    nginx: &'a Nginx,
    /// `=`, `^~`, `~`, `~*` or empty, then the pattern: as written in the file.
    pub(super) location: String,
    body: &'a [Directive],
    method: String,
}

const MIB: u64 = 1 << 20;

fn size(text: &str) -> u64 {
    let (digits, unit) = match text.char_indices().last() {
        Some((at, 'k' | 'K')) => (&text[..at], 1 << 10),
        Some((at, 'm' | 'M')) => (&text[..at], MIB),
        Some((at, 'g' | 'G')) => (&text[..at], 1 << 30),
        _ => (text, 1),
    };
    digits.parse::<u64>().expect("a size is a number") * unit
}

impl Nginx {
    pub(super) fn new(text: &str) -> Self {
        let mut top = parse(text);
        let at = top
            .iter()
            .position(|d| d.name == "http")
            .expect("nginx.conf has an http block");
        Self {
            http: top.swap_remove(at).block,
        }
    }

    pub(super) fn http(&self) -> &[Directive] {
        &self.http
    }

    pub(super) fn server(&self) -> &[Directive] {
        let mut servers = named(&self.http, "server");
        let server = servers.next().expect("nginx.conf has a server");
        assert!(servers.next().is_none(), "nginx.conf has one server");
        &server.block
    }

    /// The location nginx picks for `path`: an exact match, else the longest prefix if it
    /// is `^~`, else the first regular expression that matches, else the longest prefix.
    pub(super) fn route(&self, method: &str, path: &str) -> Route<'_> {
        let locations: Vec<&Directive> = named(self.server(), "location").collect();
        let pattern = |d: &Directive| d.args.last().cloned().unwrap_or_default();
        let modifier = |d: &Directive| {
            if d.args.len() == 2 {
                d.args[0].clone()
            } else {
                String::new()
            }
        };
        let exact = locations
            .iter()
            .find(|d| modifier(d) == "=" && pattern(d) == path);
        let prefix = locations
            .iter()
            .filter(|d| ["", "^~"].contains(&modifier(d).as_str()) && !pattern(d).starts_with('@'))
            .filter(|d| path.starts_with(&pattern(d)))
            .max_by_key(|d| pattern(d).len());
        let regex = || {
            locations.iter().find(|d| {
                let flags = match modifier(d).as_str() {
                    "~" => "",
                    "~*" => "(?i)",
                    _ => return false,
                };
                Regex::new(&format!("{flags}{}", pattern(d)))
                    .expect("a location's regular expression compiles")
                    .is_match(path)
            })
        };
        let chosen = exact
            .or(prefix.filter(|d| modifier(d) == "^~"))
            .or_else(regex)
            .or(prefix)
            .unwrap_or_else(|| panic!("no location of nginx.conf takes {path}"));
        Route {
            nginx: self,
            location: chosen.args.join(" "),
            body: &chosen.block,
            method: method.to_uppercase(),
        }
    }

    /// The location named `@name`.
    fn named_location(&self, name: &str) -> &[Directive] {
        named(self.server(), "location")
            .find(|d| d.args == [name])
            .map(|d| d.block.as_slice())
            .unwrap_or_else(|| panic!("nginx.conf has no location {name}"))
    }

    /// What `map <source> $variable` makes of `input`: regex entries (`~`) in order,
    /// then `default`; `$name` and `${name}` in the result are the regex's named groups.
    pub(super) fn map(&self, variable: &str, input: &str) -> String {
        let map = named(&self.http, "map")
            .find(|d| d.args.get(1).map(String::as_str) == Some(variable))
            .unwrap_or_else(|| panic!("nginx.conf maps nothing to {variable}"));
        let source = &map.args[0];
        for entry in &map.block {
            let value = entry.args.first().expect("a map entry has a value");
            let Some(pattern) = entry.name.strip_prefix('~') else {
                if entry.name == input {
                    return value.replace(source.as_str(), input);
                }
                continue;
            };
            let pattern = pattern
                .strip_prefix('*')
                .map_or(pattern.to_owned(), |p| format!("(?i){p}"));
            let regex = Regex::new(&pattern).expect("a map's regular expression compiles");
            if let Some(captures) = regex.captures(input) {
                let mut result = value.clone();
                for name in regex.capture_names().flatten() {
                    let text = captures.name(name).map_or("", |m| m.as_str());
                    result = result
                        .replace(&format!("${{{name}}}"), text)
                        .replace(&format!("${name}"), text);
                }
                return result;
            }
        }
        let default = named(&map.block, "default").next();
        default.map_or(String::new(), |d| d.args[0].replace(source.as_str(), input))
    }
}

impl Route<'_> {
    /// A directive's arguments as the location sees them: its own, else the server's,
    /// else the http block's.
    fn inherited(&self, name: &str) -> Option<&[String]> {
        [self.body, self.nginx.server(), self.nginx.http()]
            .into_iter()
            .find_map(|level| named(level, name).next())
            .map(|d| d.args.as_slice())
    }

    /// The upstream group this request is proxied to; `None` when nginx answers itself.
    pub(super) fn upstream(&self) -> Option<String> {
        let target = named(self.body, "proxy_pass").next()?.args[0].clone();
        let group = target
            .strip_prefix("http://")
            .expect("proxy_pass to http://");
        Some(match group.strip_prefix('$') {
            Some(variable) => self.nginx.map(&format!("${variable}"), &self.method),
            None => group.to_owned(),
        })
    }

    /// The largest request body this location accepts, in bytes (nginx's default is 1m).
    pub(super) fn body_limit(&self) -> u64 {
        self.inherited("client_max_body_size")
            .map_or(MIB, |args| size(&args[0]))
    }

    /// The body of the answer nginx gives to a body over the limit.
    pub(super) fn too_large_answer(&self) -> String {
        // error_page is inherited only by a level that has none of its own.
        let pages: Vec<&Directive> = [self.body, self.nginx.server(), self.nginx.http()]
            .into_iter()
            .map(|level| named(level, "error_page").collect::<Vec<_>>())
            .find(|pages| !pages.is_empty())
            .unwrap_or_default();
        let page = pages
            .iter()
            .find(|d| d.args.iter().any(|arg| arg == "413"))
            .unwrap_or_else(|| panic!("location {} has no error page for 413", self.location));
        let target = page.args.last().expect("an error page has a target");
        let answer = named(self.nginx.named_location(target), "return")
            .next()
            .unwrap_or_else(|| panic!("{target} returns nothing"));
        answer.args.last().expect("return has a body").clone()
    }

    /// The directives written in the location itself.
    pub(super) fn directives(&self) -> &[Directive] {
        self.body
    }
}

/// `n` MiB in bytes.
pub(super) const fn mib(n: u64) -> u64 {
    n * MIB
}
