//! The post and comment aggregates as pure functions: `decide` turns a command into
//! events given the current state (including who may do what), `evolve` folds an event
//! into the state. No I/O here.

use schemas::board::{
    BoardEvent, CommentAdded, CommentDeleted, PostCreated, PostDeleted, PostUpdated,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::input::PostFields;
pub use crate::command::Actor;

/// A post as its own stream describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub post_id: i64,
    pub author_id: Uuid,
    pub title: String,
    pub content: String,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
    pub deleted: bool,
}

/// A comment as its own stream describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub comment_id: i64,
    pub post_id: i64,
    pub author_id: Uuid,
    pub content: String,
    pub created_at: OffsetDateTime,
    pub version: i64,
    pub deleted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostCommand {
    CreatePost {
        post_id: i64,
        fields: PostFields,
        by: Actor,
        at: OffsetDateTime,
    },
    UpdatePost {
        fields: PostFields,
        by: Actor,
        at: OffsetDateTime,
    },
    DeletePost {
        by: Actor,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentCommand {
    AddComment {
        comment_id: i64,
        content: String,
        by: Actor,
        at: OffsetDateTime,
    },
    DeleteComment {
        by: Actor,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BoardError {
    #[error("no such post")]
    PostNotFound,
    #[error("no such comment on this post")]
    CommentNotFound,
    #[error("only the author or an admin may change or delete this post")]
    NotPostAuthor,
    #[error("only the comment's author, the post's author or an admin may delete this comment")]
    NotCommentAuthor,
    #[error("it exists already")]
    AlreadyExists,
}

/// The events a post command produces, or why it is refused.
pub fn decide_post(
    state: Option<&Post>,
    command: PostCommand,
) -> Result<Vec<BoardEvent>, BoardError> {
    let live = state.filter(|post| !post.deleted);
    match (live, command) {
        (
            None,
            PostCommand::CreatePost {
                post_id,
                fields,
                by,
                at,
            },
        ) if state.is_none() => Ok(vec![BoardEvent::PostCreated(PostCreated {
            post_id,
            author_id: by.user_id,
            title: fields.title,
            content: fields.content,
            created_at: at,
        })]),
        (_, PostCommand::CreatePost { .. }) => Err(BoardError::AlreadyExists),
        (None, _) => Err(BoardError::PostNotFound),
        (Some(post), PostCommand::UpdatePost { fields, by, at }) => {
            may_edit(post, by)?;
            Ok(vec![BoardEvent::PostUpdated(PostUpdated {
                post_id: post.post_id,
                title: fields.title,
                content: fields.content,
                by: by.user_id,
                updated_at: at,
            })])
        }
        (Some(post), PostCommand::DeletePost { by }) => {
            may_edit(post, by)?;
            Ok(vec![BoardEvent::PostDeleted(PostDeleted {
                post_id: post.post_id,
                by: by.user_id,
            })])
        }
    }
}

fn may_edit(post: &Post, by: Actor) -> Result<(), BoardError> {
    if by.admin || by.user_id == post.author_id {
        Ok(())
    } else {
        Err(BoardError::NotPostAuthor)
    }
}

/// The events a comment command produces on a live `post`, or why it is refused.
pub fn decide_comment(
    post: Option<&Post>,
    state: Option<&Comment>,
    command: CommentCommand,
) -> Result<Vec<BoardEvent>, BoardError> {
    let post = post
        .filter(|post| !post.deleted)
        .ok_or(BoardError::PostNotFound)?;
    let live = state.filter(|c| !c.deleted && c.post_id == post.post_id);
    match (live, command) {
        (
            None,
            CommentCommand::AddComment {
                comment_id,
                content,
                by,
                at,
            },
        ) if state.is_none() => Ok(vec![BoardEvent::CommentAdded(CommentAdded {
            comment_id,
            post_id: post.post_id,
            author_id: by.user_id,
            content,
            created_at: at,
        })]),
        (_, CommentCommand::AddComment { .. }) => Err(BoardError::AlreadyExists),
        (None, CommentCommand::DeleteComment { .. }) => Err(BoardError::CommentNotFound),
        (Some(comment), CommentCommand::DeleteComment { by }) => {
            if !(by.admin || by.user_id == comment.author_id || by.user_id == post.author_id) {
                return Err(BoardError::NotCommentAuthor);
            }
            Ok(vec![BoardEvent::CommentDeleted(CommentDeleted {
                comment_id: comment.comment_id,
                post_id: post.post_id,
                by: by.user_id,
            })])
        }
    }
}

/// A post after one more event of its stream, which is at `version`.
pub fn evolve_post(state: Option<Post>, event: &BoardEvent, version: i64) -> Option<Post> {
    match (state, event) {
        (_, BoardEvent::PostCreated(e)) => Some(Post {
            post_id: e.post_id,
            author_id: e.author_id,
            title: e.title.clone(),
            content: e.content.clone(),
            created_at: e.created_at,
            updated_at: e.created_at,
            version,
            deleted: false,
        }),
        (Some(post), BoardEvent::PostUpdated(e)) => Some(Post {
            title: e.title.clone(),
            content: e.content.clone(),
            updated_at: e.updated_at,
            version,
            ..post
        }),
        (Some(post), BoardEvent::PostDeleted(_)) => Some(Post {
            deleted: true,
            version,
            ..post
        }),
        (state, _) => state,
    }
}

/// A comment after one more event of its stream, which is at `version`.
pub fn evolve_comment(state: Option<Comment>, event: &BoardEvent, version: i64) -> Option<Comment> {
    match (state, event) {
        (_, BoardEvent::CommentAdded(e)) => Some(Comment {
            comment_id: e.comment_id,
            post_id: e.post_id,
            author_id: e.author_id,
            content: e.content.clone(),
            created_at: e.created_at,
            version,
            deleted: false,
        }),
        (Some(comment), BoardEvent::CommentDeleted(_)) => Some(Comment {
            deleted: true,
            version,
            ..comment
        }),
        (state, _) => state,
    }
}

impl crate::command::Aggregate for Post {
    type Event = BoardEvent;

    fn evolve(state: Option<Self>, event: &BoardEvent, version: i64) -> Option<Self> {
        evolve_post(state, event, version)
    }
}

impl crate::command::Aggregate for Comment {
    type Event = BoardEvent;

    fn evolve(state: Option<Self>, event: &BoardEvent, version: i64) -> Option<Self> {
        evolve_comment(state, event, version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{UNNUMBERED, numbered::assert_numbered_as_stored};

    const AUTHOR: Uuid = Uuid::from_u128(1);
    const OTHER: Uuid = Uuid::from_u128(2);
    const COMMENTER: Uuid = Uuid::from_u128(3);

    fn actor(user_id: Uuid, admin: bool) -> Actor {
        Actor { user_id, admin }
    }

    fn at() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap()
    }

    fn fields(title: &str) -> PostFields {
        PostFields {
            title: title.into(),
            content: "body".into(),
        }
    }

    fn create(post_id: i64) -> PostCommand {
        PostCommand::CreatePost {
            post_id,
            fields: fields("Hello"),
            by: actor(AUTHOR, false),
            at: at(),
        }
    }

    fn add(comment_id: i64) -> CommentCommand {
        CommentCommand::AddComment {
            comment_id,
            content: "nice".into(),
            by: actor(COMMENTER, false),
            at: at(),
        }
    }

    fn post() -> Post {
        let events = decide_post(None, create(1)).unwrap();
        evolve_post(None, &events[0], 1).unwrap()
    }

    fn comment(post: &Post) -> Comment {
        let events = decide_comment(Some(post), None, add(7)).unwrap();
        evolve_comment(None, &events[0], 1).unwrap()
    }

    fn update(by: Actor) -> PostCommand {
        PostCommand::UpdatePost {
            fields: fields("Changed"),
            by,
            at: at(),
        }
    }

    #[test]
    fn new_posts_and_comments_are_numbered_where_the_store_numbers_them() {
        assert_numbered_as_stored::<Post>(decide_post(None, create(UNNUMBERED)).unwrap());
        let added = decide_comment(Some(&post()), None, add(UNNUMBERED)).unwrap();
        assert_numbered_as_stored::<Comment>(added);
    }

    #[test]
    fn only_the_author_or_an_admin_edits_or_deletes_a_post() {
        let post = post();
        for (by, allowed) in [
            (actor(AUTHOR, false), true),
            (actor(OTHER, true), true),
            (actor(OTHER, false), false),
        ] {
            let edit = decide_post(Some(&post), update(by));
            let delete = decide_post(Some(&post), PostCommand::DeletePost { by });
            assert_eq!(edit.is_ok(), allowed, "{by:?}");
            assert_eq!(delete.is_ok(), allowed, "{by:?}");
            if !allowed {
                assert_eq!(edit, Err(BoardError::NotPostAuthor));
            }
        }
    }

    #[test]
    fn a_deleted_post_takes_neither_edits_nor_comments() {
        let post = post();
        let events = decide_post(
            Some(&post),
            PostCommand::DeletePost {
                by: actor(AUTHOR, false),
            },
        )
        .unwrap();
        let deleted = evolve_post(Some(post), &events[0], 2).unwrap();
        assert_eq!(
            decide_post(Some(&deleted), update(actor(AUTHOR, false))),
            Err(BoardError::PostNotFound)
        );
        let add = CommentCommand::AddComment {
            comment_id: 1,
            content: "late".into(),
            by: actor(OTHER, false),
            at: at(),
        };
        assert_eq!(
            decide_comment(Some(&deleted), None, add),
            Err(BoardError::PostNotFound)
        );
    }

    #[test]
    fn a_comment_is_deleted_by_its_author_the_posts_author_or_an_admin_only() {
        let post = post();
        let comment = comment(&post);
        for (by, allowed) in [
            (actor(COMMENTER, false), true),
            (actor(AUTHOR, false), true),
            (actor(OTHER, true), true),
            (actor(OTHER, false), false),
        ] {
            let result = decide_comment(
                Some(&post),
                Some(&comment),
                CommentCommand::DeleteComment { by },
            );
            assert_eq!(result.is_ok(), allowed, "{by:?}");
        }
    }

    #[test]
    fn a_comment_of_another_post_is_not_found_under_this_one() {
        let post = post();
        let mut other = comment(&post);
        other.post_id = 99;
        let result = decide_comment(
            Some(&post),
            Some(&other),
            CommentCommand::DeleteComment {
                by: actor(AUTHOR, true),
            },
        );
        assert_eq!(result, Err(BoardError::CommentNotFound));
    }
}
