-- The orders context.

-- Sequential, human-readable order numbers are a command-side resource, drawn as the
-- placing append commits (like item ids).
CREATE SEQUENCE order_numbers;

-- The orders read model (built by the projector from the orders events). Money is in the
-- currency's minor unit, so it adds up exactly.
CREATE TABLE orders (
    number       bigint PRIMARY KEY,
    member_id    uuid NOT NULL,
    product_name text NOT NULL,
    quantity     integer NOT NULL,
    unit_price   bigint NOT NULL,
    total_price  bigint NOT NULL,
    note         text NOT NULL,
    status       text NOT NULL,
    version      bigint NOT NULL,
    placed_at    timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    paid_at      timestamptz,
    shipped_at   timestamptz,
    delivered_at timestamptz,
    cancelled_at timestamptz
);

-- Listings are sorted by order date with the number as tie-breaker, newest first unless
-- asked otherwise, and filtered by member, by status or by a date range. Each index
-- serves one filter in sort order (scanned backwards for newest first), so a page reads
-- only its own rows and keyset cursors ((placed_at, number) < ...) start where they left.
CREATE INDEX orders_by_date ON orders (placed_at, number);
CREATE INDEX orders_by_member ON orders (member_id, placed_at, number);
CREATE INDEX orders_by_status ON orders (status, placed_at, number);

-- Order counts per member and status, kept in the same transaction as the rows, so a
-- listing's total without a date range costs a few rows instead of counting orders. The
-- nil uuid holds the counts over every member.
CREATE TABLE order_totals (
    member_id uuid NOT NULL,
    status    text NOT NULL,
    orders    bigint NOT NULL,
    PRIMARY KEY (member_id, status)
);
