//! The README's endpoint map, walked: every seed path called as its seed's client would
//! call it (its method, its body) and the answer checked, and every row of the map either
//! covered here or saying why it is not.

use std::collections::HashMap;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{
    self, TestApp,
    accounts::{ADMIN_FLAGS, Account},
    chat::room_id,
    id,
    prompts::{profile, public_script},
};

/// Who calls.
#[derive(Clone, Copy, Debug)]
enum Who {
    Nobody,
    Ada,
    Bob,
    Admin,
}

/// What the seed path answers.
#[derive(Debug)]
enum Expect {
    /// `200` with the same body as this canonical path (same caller, same position).
    Same(&'static str),
    /// This success status, with the `ok` envelope unless `204`.
    Status(u16),
    /// This error status and code, in the error envelope.
    Error(u16, &'static str),
    /// `200` with these fields (JSON) of `data` at these values.
    Fields(&'static str),
}

/// One call of the walk. `{name}` in the path and body is a value of the fixture.
struct Case {
    /// The README row's "original endpoint" cell, verbatim.
    row: &'static str,
    who: Who,
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    expect: Expect,
}

const fn case(
    row: &'static str,
    who: Who,
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    expect: Expect,
) -> Case {
    Case {
        row,
        who,
        method,
        path,
        body,
        expect,
    }
}

use Expect::{Error, Fields, Same, Status};
use Who::{Ada, Admin, Bob, Nobody};

/// Every seed path, in an order where each deletion comes after the rest of its target's
/// calls and the logout after every call of the session it ends.
#[rustfmt::skip]
fn cases() -> Vec<Case> {
    let get = || Method::GET;
    let post = || Method::POST;
    let put = || Method::PUT;
    let delete = || Method::DELETE;
    let patch = || Method::PATCH;
    vec![
        // Seed 000.
        case("`GET /items`", Nobody, get(), "/items", None, Same("/api/v1/items")),
        case("`POST /items`", Nobody, post(), "/items", Some(r#"{"name":"pen","description":"blue"}"#), Status(201)),
        case("`PUT /items/{id}`", Nobody, put(), "/items/{item}", Some(r#"{"name":"lamp","description":"brighter"}"#), Status(200)),
        case("`DELETE /items/{id}`", Nobody, delete(), "/items/{item}", None, Status(204)),
        case("`POST /register`", Nobody, post(), "/register", Some(r#"{"email":"cy@example.com","password":"Analytical1"}"#), Error(422, "INVALID_INPUT")),
        case("`POST /register`", Nobody, post(), "/register", Some(r#"{"email":"cy@example.com","password":"Analytical1","name":"Cy"}"#), Status(201)),
        case("`POST /register`", Nobody, post(), "/register", Some(r#"{"email":"dee@example.com","password":"short","name":"Dee"}"#), Error(422, "INVALID_INPUT")),
        case("`POST /login`", Nobody, post(), "/login", Some(r#"{"email":"cy@example.com","password":"Analytical1"}"#), Status(200)),
        case("`POST /login`", Nobody, post(), "/login", Some(r#"{"email":"cy@example.com","password":"Wrong1234"}"#), Error(401, "UNAUTHORIZED")),
        case("`GET /profile`", Ada, get(), "/profile", None, Same("/api/v1/users/me")),
        case("`GET /profile`", Nobody, get(), "/profile", None, Error(401, "UNAUTHORIZED")),
        case("`GET /posts`", Nobody, get(), "/posts", None, Same("/api/v1/posts")),
        case("`POST /posts`", Ada, post(), "/posts", Some(r#"{"title":"Hello","content":"First"}"#), Status(201)),
        case("`POST /posts`", Nobody, post(), "/posts", Some(r#"{"title":"Hello","content":"First"}"#), Error(401, "UNAUTHORIZED")),
        case("`GET /posts/{id}`", Nobody, get(), "/posts/{post}", None, Same("/api/v1/posts/{post}")),
        case("`PUT /posts/{id}`", Ada, put(), "/posts/{post}", Some(r#"{"title":"Hello again","content":"Edited"}"#), Status(200)),
        case("`PUT /posts/{id}`", Admin, put(), "/posts/{post}", Some(r#"{"title":"","content":"Edited"}"#), Error(422, "INVALID_INPUT")),
        case("`DELETE /posts/{id}`", Ada, delete(), "/posts/{post}", None, Status(204)),
        case("`GET /orders` (made fast)", Ada, get(), "/orders", None, Same("/api/v1/orders")),
        case("`GET /orders` (made fast)", Nobody, get(), "/orders", None, Error(401, "UNAUTHORIZED")),
        case("`POST /send-email`", Ada, post(), "/send-email", Some(r#"{"to":["bob@example.com"],"subject":"Hi","text":"Hello"}"#), Status(202)),
        case("`POST /send-email`", Ada, post(), "/send-email", Some(r#"{"to":[],"subject":"Hi","text":"Hello"}"#), Error(422, "INVALID_INPUT")),
        // The chat server (seeds 001 and 003).
        case("`GET /api/users` (active users)", Ada, get(), "/api/users", None, Same("/api/v1/users?online=true")),
        case("`GET /api/users` (active users)", Nobody, get(), "/api/users", None, Error(401, "UNAUTHORIZED")),
        case("`POST /api/users/login`", Nobody, post(), "/api/users/login", Some(r#"{"email":"cy@example.com","password":"Analytical1"}"#), Status(200)),
        case("`GET /api/users/search`", Ada, get(), "/api/users/search?q=bo", None, Same("/api/v1/users/search?q=bo")),
        case("`GET /api/chats` (group rooms)", Ada, get(), "/api/chats", None, Same("/api/v1/chats?type=group")),
        case("`POST /api/chats`", Ada, post(), "/api/chats", Some(r#"{"type":"group","name":"walk","members":["{bob}"]}"#), Status(201)),
        case("`GET /api/chats/one-to-one/:userId`", Ada, get(), "/api/chats/one-to-one/{ada}", None, Same("/api/v1/users/{ada}/chats?type=direct")),
        case("`GET /api/chats/one-to-one/:userId`", Ada, get(), "/api/chats/one-to-one/{bob}", None, Error(403, "FORBIDDEN")),
        case("`GET /api/chats/group/:userId`", Ada, get(), "/api/chats/group/{ada}", None, Same("/api/v1/users/{ada}/chats?type=group")),
        case("`GET /api/chats/:number`", Ada, get(), "/api/chats/{room}", None, Same("/api/v1/chats/{room}")),
        case("`GET /api/messages/:chatId`", Ada, get(), "/api/messages/{room}", None, Same("/api/v1/chats/{room}/messages")),
        // Seed 002, the production API.
        case("`POST /api/v1/auth/signup`", Nobody, post(), "/api/v1/auth/signup", Some(r#"{"email":"eve@example.com","password":"Analytical1","name":"Eve"}"#), Status(201)),
        case("`POST /api/v1/auth/login`", Nobody, post(), "/api/v1/auth/login", Some(r#"{"email":"eve@example.com","password":"Analytical1"}"#), Status(200)),
        case("`GET /api/v1/users/{id}`", Admin, get(), "/api/v1/users/{bob}", None, Same("/api/v1/members/{bob}")),
        case("`GET /api/v1/posts?page=1&size=20`, `POST /api/v1/posts`, `GET/DELETE /api/v1/posts/{id}`", Nobody, get(), "/api/v1/posts?page=1&size=20", None, Status(200)),
        case("`PATCH /api/v1/users/{id}`", Ada, patch(), "/api/v1/users/{ada}", Some(r#"{"name":"Ada L"}"#), Fields(r#"{"name":"Ada L","email":"ada@example.com"}"#)),
        case("`PATCH /api/v1/users/{id}`", Ada, patch(), "/api/v1/users/{bob}", Some(r#"{"name":"Not Bob"}"#), Error(403, "FORBIDDEN")),
        case("`PATCH /api/v1/users/{id}`", Ada, patch(), "/api/v1/users/{ada}", Some(r#"{"name":""}"#), Error(422, "INVALID_INPUT")),
        case("`PATCH /api/v1/users/{id}`", Nobody, patch(), "/api/v1/users/{ada}", Some(r#"{"name":"Ada"}"#), Error(401, "UNAUTHORIZED")),
        // Absent fields keep their value.
        case("`PATCH /api/v1/posts/{id}`", Ada, patch(), "/api/v1/posts/{post2}", Some(r#"{"title":"Renamed"}"#), Fields(r#"{"title":"Renamed","content":"Text","version":2}"#)),
        case("`PATCH /api/v1/posts/{id}`", Admin, patch(), "/api/v1/posts/{post2}", Some(r#"{"content":"New"}"#), Fields(r#"{"title":"Renamed","content":"New","version":3}"#)),
        case("`PATCH /api/v1/posts/{id}`", Ada, patch(), "/api/v1/posts/{post2}", Some(r#"{}"#), Fields(r#"{"title":"Renamed","content":"New"}"#)),
        case("`PATCH /api/v1/posts/{id}`", Ada, patch(), "/api/v1/posts/{post2}", Some(r#"{"title":" "}"#), Error(422, "INVALID_INPUT")),
        case("`PATCH /api/v1/posts/{id}`", Ada, patch(), "/api/v1/posts/{post2}", Some(r#"{"title":"A","author":"x"}"#), Error(422, "INVALID_INPUT")),
        case("`PATCH /api/v1/posts/{id}`", Bob, patch(), "/api/v1/posts/{post2}", Some(r#"{"title":"Mine"}"#), Error(403, "FORBIDDEN")),
        case("`PATCH /api/v1/posts/{id}`", Nobody, patch(), "/api/v1/posts/{post2}", Some(r#"{"title":"Mine"}"#), Error(401, "UNAUTHORIZED")),
        case("`POST /api/v1/posts/{id}/comments`", Ada, post(), "/api/v1/posts/{post2}/comments", Some(r#"{"content":"Nice"}"#), Status(201)),
        // Seed 004, the GPT supporter.
        case("`users/signup` (POST)", Nobody, post(), "/api/v1/users/signup", Some(r#"{"email":"fay@example.com","password":"Analytical1","name":"Fay"}"#), Status(201)),
        case("`users/signin` (POST)", Nobody, post(), "/api/v1/users/signin", Some(r#"{"email":"fay@example.com","password":"Analytical1"}"#), Status(200)),
        case("`users/me` (GET)", Ada, get(), "/api/v1/users/me", None, Status(200)),
        case("`users/me` (PUT)", Ada, put(), "/api/v1/users/me", Some(r#"{"name":"Ada Lovelace"}"#), Fields(r#"{"name":"Ada Lovelace"}"#)),
        case("`users/me` (PUT)", Ada, put(), "/api/v1/users/me", Some(r#"{"name":""}"#), Error(422, "INVALID_INPUT")),
        case("`gpt-sys-infos?page=` (GET)", Ada, get(), "/api/v1/gpt-sys-infos?page=1", None, Same("/api/v1/profiles?page=1")),
        case("`gpt-sys-infos/create` (POST)", Ada, post(), "/api/v1/gpt-sys-infos/create", Some( r#"{"language":"en","major":"Physics","understanding_level":2,"ref_book_ids":[],"ref_data_ids":[]}"#),
            Status(201),
        ),
        case("`gpt-sys-infos/create` (POST)", Ada, post(), "/api/v1/gpt-sys-infos/create", Some( r#"{"language":"fr","major":"Physics","understanding_level":2,"ref_book_ids":[],"ref_data_ids":[]}"#),
            Error(422, "INVALID_INPUT"),
        ),
        case("`gpt-sys-infos/<int:pk>/dialogues` (GET)", Ada, get(), "/api/v1/gpt-sys-infos/{profile}/dialogues", None, Same("/api/v1/profiles/{profile}/dialogues")),
        case("`gpt-sys-infos/<int:pk>` (PUT, DELETE)", Ada, put(), "/api/v1/gpt-sys-infos/{profile}", Some( r#"{"language":"ko","major":"Chemistry","understanding_level":3,"ref_book_ids":[],"ref_data_ids":[]}"#),
            Status(200),
        ),
        case("`gpt-sys-infos/<int:pk>` (PUT, DELETE)", Ada, delete(), "/api/v1/gpt-sys-infos/{profile}", None, Status(204)),
        case("`gpt-sys-infos/refbook?page=` (GET)", Ada, get(), "/api/v1/gpt-sys-infos/refbook?page=1", None, Same("/api/v1/ref-books?page=1")),
        case("`gpt-sys-infos/refbook/create` (POST)", Ada, post(), "/api/v1/gpt-sys-infos/refbook/create", Some(r#"{"author":"Feynman","title":"Lectures"}"#), Status(201)),
        case("`gpt-sys-infos/gpt-sys-infos/<int:pk>` (PUT, DELETE; a reference book)", Ada, put(), "/api/v1/gpt-sys-infos/gpt-sys-infos/{book}", Some(r#"{"author":"Feynman","title":"Lectures II"}"#), Status(200)),
        case("`gpt-sys-infos/gpt-sys-infos/<int:pk>` (PUT, DELETE; a reference book)", Ada, delete(), "/api/v1/gpt-sys-infos/gpt-sys-infos/{book}", None, Status(204)),
        case("`gpt-sys-infos/refdata?page=` (GET)", Ada, get(), "/api/v1/gpt-sys-infos/refdata?page=1", None, Same("/api/v1/ref-data?page=1")),
        case("`gpt-sys-infos/refdata` (POST)", Ada, post(), "/api/v1/gpt-sys-infos/refdata", Some(r#"{"title":"Notes","text":"Forces"}"#), Status(201)),
        case("`gpt-sys-infos/refdata/<int:pk>` (PUT, DELETE)", Ada, put(), "/api/v1/gpt-sys-infos/refdata/{text}", Some(r#"{"title":"Notes","text":"Fields"}"#), Status(200)),
        case("`gpt-sys-infos/refdata/<int:pk>` (PUT, DELETE)", Ada, delete(), "/api/v1/gpt-sys-infos/refdata/{text}", None, Status(204)),
        case("`public-script/` (GET)", Ada, get(), "/api/v1/public-script/", None, Same("/api/v1/public-scripts")),
        case("`public-script/create` (POST)", Admin, post(), "/api/v1/public-script/create", Some(r#"{"name":"outro","description":"","scripts":[{"number":1,"text":"Bye"}]}"#), Status(201)),
        case("`public-script/create` (POST)", Ada, post(), "/api/v1/public-script/create", Some(r#"{"name":"outro","description":"","scripts":[{"number":1,"text":"Bye"}]}"#), Error(403, "FORBIDDEN")),
        // Last: it ends Ada's session.
        case("`POST /api/users/logout`", Ada, post(), "/api/users/logout", None, Status(204)),
    ]
}

/// What the cases act on, made through the canonical paths.
struct Fixture {
    ada: Account,
    bob: Account,
    admin: Account,
    values: HashMap<&'static str, String>,
}

impl Fixture {
    async fn make(app: &TestApp) -> Self {
        let ada = app.sign_up_named("ada@example.com", "Ada").await;
        let bob = app.sign_up_named("bob@example.com", "Bob").await;
        let admin = app.admin().await;
        let item = id(&app.create_item("lamp").await);
        let body = json!({ "title": "One", "content": "Text" });
        let first = id(&app.create_as(&ada, "/api/v1/posts", &body).await);
        let second = id(&app.create_as(&ada, "/api/v1/posts", &body).await);
        let response = app.open_direct(&ada, &bob.id).await;
        let room = room_id(&support::json(response, StatusCode::CREATED).await["data"]);
        app.say(&ada, room, "hi").await;
        app.create_group(&ada, "team", std::slice::from_ref(&bob.id))
            .await;
        let book = id(&app.create_book(&ada, "Feynman", "Lectures").await);
        let text = id(&app.create_text(&ada, "Notes", "Forces").await);
        let body = profile("en", "Physics", 1, &[book], &[text]);
        let profile = id(&app.create_profile(&ada, &body).await);
        app.create_as(
            &admin,
            "/api/v1/public-scripts",
            &public_script("intro", &["Be kind"]),
        )
        .await;
        let values = HashMap::from([
            ("ada", ada.id.clone()),
            ("bob", bob.id.clone()),
            ("item", item.to_string()),
            ("post", first.to_string()),
            ("post2", second.to_string()),
            ("room", room.to_string()),
            ("book", book.to_string()),
            ("text", text.to_string()),
            ("profile", profile.to_string()),
        ]);
        Self {
            ada,
            bob,
            admin,
            values,
        }
    }

    fn fill(&self, template: &str) -> String {
        self.values
            .iter()
            .fold(template.to_owned(), |text, (name, value)| {
                text.replace(&format!("{{{name}}}"), value)
            })
    }

    fn account(&self, who: Who) -> Option<&Account> {
        match who {
            Nobody => None,
            Ada => Some(&self.ada),
            Bob => Some(&self.bob),
            Admin => Some(&self.admin),
        }
    }
}

/// The context whose read model answers `canonical`.
fn context(canonical: &str) -> &'static str {
    const CONTEXTS: [(&str, &str); 8] = [
        ("/api/v1/users/me", "identity"),
        ("/api/v1/members", "identity"),
        ("/api/v1/users", "chat"),
        ("/api/v1/chats", "chat"),
        ("/api/v1/items", "items"),
        ("/api/v1/posts", "board"),
        ("/api/v1/orders", "orders"),
        ("/api/v1/", "prompts"),
    ];
    let (_, context) = CONTEXTS
        .iter()
        .find(|(prefix, _)| canonical.starts_with(prefix))
        .expect("a canonical path under /api/v1/");
    context
}

/// The last position of `context`'s events: a read of its model waits for it, so it sees
/// every write before it. (With Kafka a model follows its context's topics alone, so a
/// position of another context is never reached.)
async fn head(app: &TestApp, context: &str) -> i64 {
    sqlx::query_scalar("SELECT COALESCE(max(position), 0) FROM events WHERE context = $1")
        .bind(context)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn call(app: &TestApp, fixture: &Fixture, case: &Case) -> reqwest::Response {
    let account = fixture.account(case.who);
    let mut request = app.as_user(account, case.method.clone(), &fixture.fill(case.path));
    if let Same(canonical) = case.expect {
        let position = head(app, context(canonical)).await;
        request = request.header("x-min-position", position.to_string());
    }
    if let Some(body) = case.body {
        let body: Value = serde_json::from_str(&fixture.fill(body)).unwrap();
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

async fn check(app: &TestApp, fixture: &Fixture, case: &Case, response: reqwest::Response) {
    let what = format!("{} {} ({:?})", case.method, case.path, case.who);
    match case.expect {
        Same(canonical) => {
            let body = support::json(response, StatusCode::OK).await;
            let account = fixture.account(case.who);
            let position = head(app, context(canonical)).await;
            let expected = app
                .get_as(account, &fixture.fill(canonical), position)
                .await;
            let expected = support::json(expected, StatusCode::OK).await;
            assert_eq!(body["status"], "ok", "{what}: {body}");
            assert_eq!(body, expected, "{what} answers as {canonical} does");
        }
        Status(204) => assert_eq!(response.status(), StatusCode::NO_CONTENT, "{what}"),
        Status(status) => {
            let status = StatusCode::from_u16(status).unwrap();
            let body = support::json(response, status).await;
            assert_eq!(body["status"], "ok", "{what}: {body}");
        }
        Fields(fields) => {
            let data = support::json(response, StatusCode::OK).await["data"].clone();
            let fields: Value = serde_json::from_str(fields).unwrap();
            for (name, value) in fields.as_object().unwrap() {
                assert_eq!(&data[name], value, "{what}: {name} of {data}");
            }
        }
        Error(status, code) => {
            let status = StatusCode::from_u16(status).unwrap();
            support::error(response, status, code, "").await;
        }
    }
}

#[tokio::test]
async fn every_seed_path_answers_as_its_canonical_endpoint() {
    let app = TestApp::spawn_with(&ADMIN_FLAGS).await;
    let fixture = Fixture::make(&app).await;
    for case in cases() {
        eprintln!("{} {} as {:?}", case.method, case.path, case.who);
        let response = call(&app, &fixture, &case).await;
        check(&app, &fixture, &case, response).await;
    }
    app.stop().await;
}

/// The map's rows: (original endpoint, the last column).
fn map_rows() -> Vec<(String, String)> {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let section = readme
        .split("## Endpoint map")
        .nth(1)
        .expect("the README has an endpoint map");
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| assignment"))
        .map(|line| {
            // `\|` inside a cell is a literal bar, not a column.
            let cells: Vec<String> = line
                .replace("\\|", "\u{0}")
                .split(" | ")
                .map(|cell| cell.trim_matches(['|', ' ']).replace('\u{0}', "|"))
                .collect();
            assert_eq!(cells.len(), 4, "a map row has four columns: {line}");
            (cells[1].clone(), cells[3].clone())
        })
        .collect()
}

/// What a row's last column may say: the seed path answers (and maybe how its answer
/// differs), or why it does not.
const ANSWERING: [&str; 2] = ["at the seed's path", "the seed's path itself"];
const NOT_ANSWERING: [&str; 2] = ["not yet at the seed's path: ", "no path of its own: "];

#[test]
fn every_row_of_the_endpoint_map_is_walked_or_says_why_not() {
    let rows = map_rows();
    assert!(rows.len() > 40, "the map has its rows: {}", rows.len());
    let cases = cases();
    for (endpoint, status) in &rows {
        let walked = cases.iter().any(|case| case.row == endpoint);
        if ANSWERING.iter().any(|start| status.starts_with(start)) {
            assert!(
                walked,
                "the row {endpoint} answers at the seed's path but is not walked"
            );
        } else if let Some(reason) = NOT_ANSWERING
            .iter()
            .find_map(|start| status.strip_prefix(start))
        {
            assert!(
                reason.len() > 20,
                "the row {endpoint} gives no reason: {status}"
            );
            assert!(
                !walked,
                "the row {endpoint} says it does not answer, yet is walked"
            );
        } else {
            panic!("the row {endpoint} says neither that it answers nor why not: {status}");
        }
    }
    for case in &cases {
        assert!(
            rows.iter().any(|(endpoint, _)| endpoint == case.row),
            "{} {} walks a row the map does not have: {}",
            case.method,
            case.path,
            case.row
        );
    }
}
