//! The errors read model's queries: issue listings (filters, orders, pages and totals),
//! one issue with its latest error, an issue's errors, counts per minute zero-filled,
//! and projects with the platform's own listed before it has a row.

use crate::common::{self, SOURCE};

use std::{collections::BTreeMap, sync::Arc};

use event_log::{subscription::Batch, testing::TestDatabase};
use event_store::EventStore;
use projector::{AnyProjection, errors::ErrorsProjection};
use query_api::errors::{
    counts, issues,
    listing::{IssueSearch, Listing},
    projects,
};
use schemas::errors::{
    self, ErrorLogged, ErrorsEvent, IssueOpened, IssueStatus, Level, Origin, ProjectCreated,
};
use serde_json::json;
use service_kit::public_url::PublicUrl;
use sqlx::PgPool;
use uuid::Uuid;

/// An error of project 1's issue `kind`, arrived now.
fn error(kind: &str, level: Level, user: Option<&str>, count: i64) -> ErrorLogged {
    let fingerprint = vec![kind.to_owned()];
    let now = schemas::clock::now();
    ErrorLogged {
        event_id: Uuid::new_v4(),
        project: 1,
        issue_id: errors::issue_id(1, &fingerprint),
        fingerprint,
        level,
        title: format!("{kind}: it broke"),
        culprit: Some(format!("app.{kind}")),
        message: None,
        exceptions: Vec::new(),
        origin: Origin::Sdk {
            sdk: None,
            platform: None,
            server_name: None,
            logger: None,
        },
        request_id: None,
        release: None,
        environment: None,
        user: user.map(Into::into),
        tags: BTreeMap::new(),
        extra: json!({ "n": count }),
        count,
        occurred_at: now,
        received_at: now,
    }
}

/// Records an error, opening its issue first when `first`.
async fn report(store: &EventStore, error: ErrorLogged, first: bool) {
    if first {
        let opened = ErrorsEvent::IssueOpened(IssueOpened {
            issue_id: error.issue_id,
            project: 1,
            fingerprint: error.fingerprint.clone(),
            title: error.title.clone(),
            level: error.level,
            first_event_id: error.event_id,
            opened_at: error.received_at,
        });
        common::append(store, errors::issue_stream_id(error.issue_id), 0, &[opened]).await;
    }
    let stream = errors::error_stream_id(1, error.event_id);
    common::append(
        store,
        stream,
        0,
        &[ErrorsEvent::ErrorLogged(Box::new(error))],
    )
    .await;
}

async fn project(pool: &PgPool) -> i64 {
    let head = event_log::read::head(pool).await.unwrap();
    let events = event_log::read::read_all(pool, 0, 100_000, None)
        .await
        .unwrap();
    let projection: Arc<dyn AnyProjection> = Arc::new(ErrorsProjection);
    let batch = Batch {
        events: events
            .into_iter()
            .filter(|e| e.context == projection.context())
            .collect(),
        through: head,
    };
    projector::runner::apply_batch(pool, projection.as_ref(), SOURCE, &batch)
        .await
        .unwrap();
    head
}

fn listing(search: IssueSearch) -> Listing {
    search.parse().unwrap()
}

#[tokio::test]
async fn issues_are_filtered_ordered_and_paged_with_their_totals() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    // Three issues, seen in this order: "Rare" once, "Common" five times by one user,
    // "Spread" twice by two users (a warning).
    report(&store, error("Rare", Level::Error, None, 1), true).await;
    report(&store, error("Common", Level::Error, Some("ada"), 5), true).await;
    report(
        &store,
        error("Spread", Level::Warning, Some("ada"), 1),
        true,
    )
    .await;
    report(
        &store,
        error("Spread", Level::Warning, Some("bob"), 1),
        false,
    )
    .await;
    project(&db.pool).await;
    let titles = |issues: &[issues::IssueSummary]| {
        issues.iter().map(|i| i.title.clone()).collect::<Vec<_>>()
    };
    let (total, recent) = issues::page(&db.pool, &listing(IssueSearch::default()))
        .await
        .unwrap();
    assert_eq!(total, 3);
    assert_eq!(
        titles(&recent),
        ["Spread: it broke", "Common: it broke", "Rare: it broke"]
    );
    for (sort, first) in [
        ("frequent", "Common"),
        ("users", "Spread"),
        ("first_seen", "Spread"),
    ] {
        let search = IssueSearch {
            sort: Some(sort.into()),
            size: Some(1),
            ..IssueSearch::default()
        };
        let (total, page) = issues::page(&db.pool, &listing(search)).await.unwrap();
        assert_eq!(total, 3);
        assert_eq!(titles(&page), [format!("{first}: it broke")], "{sort}");
    }
    let second = IssueSearch {
        sort: Some("frequent".into()),
        size: Some(2),
        page: Some(2),
        ..IssueSearch::default()
    };
    let (_, page) = issues::page(&db.pool, &listing(second)).await.unwrap();
    assert_eq!(page.len(), 1, "the last page holds the rest");
    let filtered = IssueSearch {
        project: Some(1),
        status: Some("open".into()),
        level: Some("warning".into()),
        q: Some("SPREAD".into()),
        ..IssueSearch::default()
    };
    let (total, page) = issues::page(&db.pool, &listing(filtered)).await.unwrap();
    assert_eq!(
        (total, titles(&page)),
        (1, vec!["Spread: it broke".to_owned()])
    );
    assert_eq!((page[0].times_seen, page[0].users_seen), (2, 2));
    assert_eq!(page[0].status, IssueStatus::Open);
    // A level asks for that level or a higher one.
    for (level, titles_seen) in [
        ("info", vec!["Spread", "Common", "Rare"]),
        ("warning", vec!["Spread", "Common", "Rare"]),
        ("error", vec!["Common", "Rare"]),
        ("fatal", vec![]),
    ] {
        let search = IssueSearch {
            level: Some(level.into()),
            ..IssueSearch::default()
        };
        let (total, page) = issues::page(&db.pool, &listing(search)).await.unwrap();
        let expected: Vec<String> = titles_seen
            .iter()
            .map(|t| format!("{t}: it broke"))
            .collect();
        assert_eq!(
            (total, titles(&page)),
            (expected.len() as i64, expected),
            "{level}"
        );
    }
    let nothing = IssueSearch {
        project: Some(7),
        ..IssueSearch::default()
    };
    let (total, page) = issues::page(&db.pool, &listing(nothing)).await.unwrap();
    assert_eq!((total, page.len()), (0, 0));
    db.drop().await;
}

#[tokio::test]
async fn an_issue_reads_back_with_its_latest_error_and_its_errors_latest_first() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let first = error("Boom", Level::Error, None, 1);
    let issue = first.issue_id;
    report(&store, first, true).await;
    let mut ids = Vec::new();
    for n in 2..=4 {
        let next = error("Boom", Level::Error, None, n);
        ids.push(next.event_id);
        report(&store, next, false).await;
    }
    project(&db.pool).await;
    let view = issues::issue(&db.pool, issue).await.unwrap().unwrap();
    assert_eq!(view.fingerprint, ["Boom"]);
    let latest = view.latest_event.unwrap();
    assert_eq!(latest["extra"]["n"], 4, "the latest error, whole");
    assert_eq!(view.issue.times_seen, 1 + 2 + 3 + 4);
    let page = service_kit::paging::Page { page: 1, size: 2 };
    let (total, errors) = issues::errors(&db.pool, issue, page)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(total, 4);
    let listed: Vec<Uuid> = errors.iter().map(|e| e.event_id).collect();
    assert_eq!(listed, [ids[2], ids[1]]);
    assert!(
        issues::issue(&db.pool, Uuid::nil())
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        issues::errors(&db.pool, Uuid::nil(), page)
            .await
            .unwrap()
            .is_none()
    );
    db.drop().await;
}

#[tokio::test]
async fn counts_cover_every_minute_asked_for_per_level() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    report(&store, error("A", Level::Error, None, 3), true).await;
    report(&store, error("B", Level::Warning, None, 1), true).await;
    project(&db.pool).await;
    let minutes = counts::per_minute(&db.pool, Some(1), 10).await.unwrap();
    assert_eq!(minutes.len(), 10);
    let sum = |f: fn(&counts::MinuteCounts) -> i64| minutes.iter().map(f).sum::<i64>();
    assert_eq!(
        (sum(|m| m.error), sum(|m| m.warning), sum(|m| m.fatal)),
        (3, 1, 0)
    );
    assert!(
        minutes
            .windows(2)
            .all(|w| w[1].minute - w[0].minute == time::Duration::MINUTE)
    );
    let other = counts::per_minute(&db.pool, Some(2), 1).await.unwrap();
    assert_eq!((other.len(), other[0].error), (1, 0));
    db.drop().await;
}

#[tokio::test]
async fn projects_list_the_platform_s_own_first_even_before_it_has_a_row() {
    let db = TestDatabase::new().await;
    let store = EventStore::new(db.pool.clone());
    let (applied, rows) = projects::all(&db.pool, SOURCE).await.unwrap();
    assert_eq!((applied, rows.len(), rows[0].id), (0, 1, 0));
    let created = ErrorsEvent::ProjectCreated(ProjectCreated {
        project: 3,
        name: "shop".into(),
        public_key: "f".repeat(32),
        rate_limit_per_minute: 60,
        created_by: Uuid::nil(),
        created_at: common::at(0),
    });
    common::append(&store, errors::project_stream_id(3), 0, &[created]).await;
    let head = project(&db.pool).await;
    let (applied, rows) = projects::all(&db.pool, SOURCE).await.unwrap();
    assert_eq!(applied, head);
    let public = PublicUrl::parse("https://errors.example.com").unwrap();
    let views: Vec<_> = rows.iter().map(|row| row.view(&public)).collect();
    assert_eq!(
        views[0].rate_limit_per_minute, None,
        "the platform's is not limited"
    );
    assert!(views[0].dsn.is_none());
    assert_eq!(
        views[1].dsn.as_deref(),
        Some(format!("https://{}@errors.example.com/3", "f".repeat(32)).as_str())
    );
    assert_eq!(views[1].version, 1);
    db.drop().await;
}
