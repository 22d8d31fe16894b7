-- The board context.

-- Sequential post and comment ids are command-side resources, drawn as the creating
-- append commits (like item ids).
CREATE SEQUENCE post_ids;
CREATE SEQUENCE comment_ids;

-- The posts read model, without their bodies: what listings read. The excerpt is the
-- start of the content, so a listing shows something of each post without its body.
CREATE TABLE posts (
    post_id       bigint PRIMARY KEY,
    author_id     uuid NOT NULL,
    title         text NOT NULL,
    excerpt       text NOT NULL,
    comment_count integer NOT NULL DEFAULT 0,
    version       bigint NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
-- Newest first is by id (ids follow commit order); one author's posts likewise.
CREATE INDEX posts_by_author ON posts (author_id, post_id);

-- Post bodies apart from the posts, so a listing never reads a body it does not return.
CREATE TABLE post_bodies (
    post_id bigint PRIMARY KEY,
    content text NOT NULL
);

-- Comments, oldest first per post. Deleting a post deletes its comments here.
CREATE TABLE comments (
    comment_id bigint PRIMARY KEY,
    post_id    bigint NOT NULL,
    author_id  uuid NOT NULL,
    content    text NOT NULL,
    version    bigint NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX comments_by_post ON comments (post_id, comment_id);
