-- The prompts context.

-- Sequential profile, book, text and public script ids are command-side resources, drawn
-- as the creating append commits (like item ids).
CREATE SEQUENCE prompt_profile_ids;
CREATE SEQUENCE prompt_book_ids;
CREATE SEQUENCE prompt_data_ids;
CREATE SEQUENCE public_script_ids;

-- The `profiles` projection: a user's profiles, books and texts, each read by its owner
-- only, newest first (ids follow commit order), so each table is indexed by owner and id.
CREATE TABLE prompt_profiles (
    profile_id          bigint PRIMARY KEY,
    owner_id            uuid NOT NULL,
    description         text NOT NULL,
    language            text NOT NULL,
    major               text NOT NULL,
    understanding_level smallint NOT NULL,
    only_references     boolean NOT NULL,
    data_in_sequence    boolean NOT NULL,
    version             bigint NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL
);
CREATE INDEX prompt_profiles_by_owner ON prompt_profiles (owner_id, profile_id);

-- A profile's links, one row each with its place in the profile's order (from 1): a
-- deleted book or text leaves every profile that linked it in one statement, by the
-- index on the reference.
CREATE TABLE prompt_profile_books (
    profile_id bigint NOT NULL,
    book_id    bigint NOT NULL,
    ord        bigint NOT NULL,
    PRIMARY KEY (profile_id, book_id)
);
CREATE INDEX prompt_profile_books_by_book ON prompt_profile_books (book_id);

CREATE TABLE prompt_profile_data (
    profile_id bigint NOT NULL,
    data_id    bigint NOT NULL,
    ord        bigint NOT NULL,
    PRIMARY KEY (profile_id, data_id)
);
CREATE INDEX prompt_profile_data_by_data ON prompt_profile_data (data_id);

CREATE TABLE prompt_books (
    book_id    bigint PRIMARY KEY,
    owner_id   uuid NOT NULL,
    author     text NOT NULL,
    title      text NOT NULL,
    version    bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX prompt_books_by_owner ON prompt_books (owner_id, book_id);

-- Reference texts without their text: what listings read.
CREATE TABLE prompt_data (
    data_id    bigint PRIMARY KEY,
    owner_id   uuid NOT NULL,
    title      text NOT NULL,
    version    bigint NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX prompt_data_by_owner ON prompt_data (owner_id, data_id);

-- The texts apart, so a listing never reads up to 3,000 characters it does not return.
CREATE TABLE prompt_data_texts (
    data_id bigint PRIMARY KEY,
    text    text NOT NULL
);

-- The `public_scripts` projection. A public script's scripts (at most ten, by number)
-- are one JSON array: they are always read, written and reordered together.
CREATE TABLE public_scripts (
    script_id    bigint PRIMARY KEY,
    name         text NOT NULL,
    description  text NOT NULL,
    scripts      jsonb NOT NULL,
    script_count integer NOT NULL,
    version      bigint NOT NULL,
    created_by   uuid NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
