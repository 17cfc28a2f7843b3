-- herald's SQLite schema. Instants are INTEGER unix milliseconds (UTC), civil dates
-- TEXT 'YYYY-MM-DD' (sorts as it reads), money INTEGER minor units beside its
-- ISO 4217 code, booleans INTEGER 0/1.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
);
-- seq: the change counter (last value handed out); last_seq: the highest seq the
-- planner has seen; watermark: the end of the last planning window (ms).
INSERT INTO meta (key, value) VALUES ('seq', 0), ('last_seq', 0);

CREATE TABLE customers (
    id        TEXT PRIMARY KEY NOT NULL,
    name      TEXT NOT NULL,
    grp       TEXT,
    locale    TEXT,
    time_zone TEXT
);

-- Which customers changed in which batch (seq): an invoice imported, edited, paid
-- or moved away. A planning run looks again at every customer changed since its
-- last_seq, and then forgets what it has seen. Kept per customer, not as an index
-- over invoices.seq: a nightly payment import then writes one row per customer
-- instead of moving one index entry per invoice (600,000 payments: 7 s -> 3 s).
-- A log rather than a column of customers: a batch's rows go in at the end, one
-- page after another, where updating the column dirtied a page of customers per
-- changed customer (10,000 invoices for random customers: 2,200 pages).
CREATE TABLE customer_changes (
    seq         INTEGER NOT NULL,
    customer_id TEXT NOT NULL,
    PRIMARY KEY (seq, customer_id)
) WITHOUT ROWID;

CREATE TABLE contacts (
    customer_id  TEXT NOT NULL REFERENCES customers (id),
    role         TEXT NOT NULL,
    name         TEXT NOT NULL,
    email        TEXT,
    phone        TEXT,
    email_opt_in INTEGER NOT NULL DEFAULT 0,
    sms_opt_in   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (customer_id, role, name)
);

CREATE TABLE operators (
    id     TEXT PRIMARY KEY NOT NULL,
    name   TEXT NOT NULL,
    email  TEXT,
    phone  TEXT,
    locale TEXT,
    roles  TEXT NOT NULL DEFAULT '[]'
);

-- Tasks (seed 001): starts_at is local (civil, 'YYYY-MM-DDTHH:MM:SS') in
-- time_zone, or the customer's zone when NULL; recurrence as imported.
CREATE TABLE tasks (
    id          TEXT PRIMARY KEY NOT NULL,
    title       TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    operator_id TEXT,
    starts_at   TEXT NOT NULL,
    time_zone   TEXT,
    recurrence  TEXT NOT NULL DEFAULT '',
    template    TEXT
);
CREATE INDEX tasks_customer ON tasks (customer_id);

-- Events from the business system (seeds 000, 002, 004): occurred_at in ms; seq is
-- the batch that last changed it, so a planning run sees every event new since its
-- last_seq, however long ago it happened.
CREATE TABLE events (
    id          TEXT PRIMARY KEY NOT NULL,
    type        TEXT NOT NULL,
    customer_id TEXT,                -- NULL: every customer
    operator_id TEXT,
    subject     TEXT,
    occurred_at INTEGER NOT NULL,
    payload     TEXT NOT NULL DEFAULT '{}',
    attachment  TEXT,
    seq         INTEGER NOT NULL
);
CREATE INDEX events_seq ON events (seq);
CREATE INDEX events_occurred ON events (occurred_at);

-- Who stands in which relation to a customer (seed 002): rules reach "the
-- customer's accounting manager" through it. Read per customer.
CREATE TABLE relations (
    customer_id TEXT NOT NULL,
    relation    TEXT NOT NULL,
    operator_id TEXT NOT NULL,
    PRIMARY KEY (customer_id, relation, operator_id)
) WITHOUT ROWID;

-- Stored in customer order (the primary key): the planner reads a customer's
-- invoices together, and one customer's rows then share a page or two instead of
-- lying one per page across the whole table (1,000,000 invoices: the books of
-- every customer read in 1.3 s instead of 3.6 s).
CREATE TABLE invoices (
    id              TEXT NOT NULL,
    number          TEXT NOT NULL,
    customer_id     TEXT NOT NULL REFERENCES customers (id),
    issue_date      TEXT NOT NULL,
    due_date        TEXT NOT NULL,
    currency        TEXT NOT NULL,
    amount_minor    INTEGER NOT NULL,
    paid_minor      INTEGER NOT NULL DEFAULT 0,
    attachment      TEXT,
    -- The seq of the batch that last changed the invoice: `changed` for a planner
    -- whose last_seq is below it. Not indexed; see customer_changes.
    seq             INTEGER NOT NULL,
    -- The seq of the batch that first brought the invoice: a planner whose
    -- last_seq is below it has never seen the invoice (its past is history).
    created_seq     INTEGER NOT NULL,
    PRIMARY KEY (customer_id, id)
) WITHOUT ROWID;
-- The invoice id is unique on its own. An index of its own rather than the key
-- so a first import can drop it and build it in one sort.
CREATE UNIQUE INDEX invoices_id ON invoices (id);
-- The date indexes are keyed by the batch that brought the invoice after the
-- date, not by customer: a batch's rows then go in at the end of each date's run
-- instead of all over the index. A batch of 10,000 invoices into 900,000 dirtied
-- 8,300 pages of each index keyed (date, customer_id) and writes a few hundred
-- this way (the whole batch: 26,278 pages to the WAL before, 8,743 after).
-- Planning reads them by date range and wants only the customers: still covered.
CREATE INDEX invoices_issue_date ON invoices (issue_date, created_seq, customer_id);
-- Due-date reminders and dunning look at open invoices only, so paid history costs
-- nothing. There is no index over every due date: a rule with `when = "always"` on
-- a due date scans the table instead, and a first import builds one index fewer.
CREATE INDEX invoices_open_due ON invoices (due_date, created_seq, customer_id) WHERE paid_minor < amount_minor;

-- How far each invoice is up its dunning ladder. Kept apart from invoices on
-- purpose: a first planning pass moves ~400,000 invoices up the ladder, and a
-- small table takes those writes where the 1,000,000-row invoices table did not.
-- Keyed like invoices, by customer first: a planning run goes through customers
-- in order, so its writes land side by side instead of all over the table.
CREATE TABLE dunning_progress (
    customer_id TEXT NOT NULL,
    invoice_id  TEXT NOT NULL,
    covered     INTEGER NOT NULL,   -- ladder steps covered by letters so far
    next_on     TEXT NOT NULL,      -- when the next step falls due; 9999-12-31: none
    PRIMARY KEY (customer_id, invoice_id)
) WITHOUT ROWID;
CREATE INDEX dunning_progress_next ON dunning_progress (next_on);

CREATE TABLE payments (
    id           TEXT PRIMARY KEY NOT NULL,
    -- No REFERENCES clause: SQLite needs the parent's unique index for that, and
    -- a first import of invoices drops it for a while; upsert_payments refuses a
    -- payment for an unknown invoice itself.
    invoice_id   TEXT NOT NULL,
    date         TEXT NOT NULL,
    amount_minor INTEGER NOT NULL
);
CREATE INDEX payments_invoice ON payments (invoice_id);

CREATE TABLE planner_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at   INTEGER NOT NULL,
    now          INTEGER NOT NULL,
    window_after INTEGER,
    window_until INTEGER NOT NULL,
    since_seq    INTEGER NOT NULL,
    max_seq      INTEGER NOT NULL,
    books        INTEGER NOT NULL DEFAULT 0,
    planned      INTEGER NOT NULL DEFAULT 0,
    inserted     INTEGER NOT NULL DEFAULT 0,
    existing     INTEGER NOT NULL DEFAULT 0,
    finished_at  INTEGER
);

CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key  TEXT NOT NULL UNIQUE,
    rule_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    customer_id TEXT,                -- NULL: to the office, about no customer (a digest)
    level       INTEGER,
    template    TEXT NOT NULL,
    fire_at     INTEGER NOT NULL,
    planned_at  INTEGER NOT NULL,
    run_id      INTEGER,
    verdict     TEXT NOT NULL CHECK (verdict IN ('deliver', 'not_applicable')),
    reason      TEXT,
    -- What the notice is about when it is not invoices: a task id, a declaration
    -- number; and for a task reminder, the start of its occurrence (ms).
    subject     TEXT,
    occurs_at   INTEGER,
    event_id    TEXT
);
CREATE INDEX notifications_customer ON notifications (customer_id, fire_at);
CREATE INDEX notifications_subject ON notifications (subject) WHERE subject IS NOT NULL;
-- Status counts notifications by rule and verdict from this index alone (213,000
-- notifications: 80 ms -> 10 ms), and a rule's notices are found without a scan.
CREATE INDEX notifications_rule ON notifications (rule_id, verdict);

CREATE TABLE notification_invoices (
    notification_id INTEGER NOT NULL REFERENCES notifications (id),
    invoice_id      TEXT NOT NULL,
    -- For a dunning letter: the ladder steps of this invoice it covers,
    -- covered_from..covered_to (NULL: listed, no step of its own due).
    covered_from    INTEGER,
    covered_to      INTEGER,
    PRIMARY KEY (notification_id, invoice_id)
) WITHOUT ROWID;
CREATE INDEX notification_invoices_invoice ON notification_invoices (invoice_id);

CREATE TABLE deliveries (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    notification_id   INTEGER NOT NULL REFERENCES notifications (id),
    -- Its notification's rule, copied: `herald status` counts deliveries by rule
    -- and state in one pass over this table instead of a join per delivery
    -- (224,000 deliveries: 100 ms -> 40 ms).
    rule_id           TEXT NOT NULL,
    channel           TEXT NOT NULL,
    name              TEXT NOT NULL,
    address           TEXT NOT NULL,
    locale            TEXT NOT NULL,
    state             TEXT NOT NULL,
    reason            TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   INTEGER,
    lease_until       INTEGER,
    lease_holder      TEXT,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    sent_at           INTEGER,
    provider_id       TEXT,
    template_override TEXT,
    resend_of         INTEGER REFERENCES deliveries (id),
    actor             TEXT,
    -- The [[accounts]] name an e-mail went out through (NULL: the shared account of
    -- [channels.email], or not an e-mail): each account's daily limit counts its own.
    account           TEXT,
    -- The delivery on another channel that failed for good before this one was
    -- made (a rule with channel_fallback: an SMS that could not go, then e-mail).
    fallback_of       INTEGER REFERENCES deliveries (id)
);
CREATE INDEX deliveries_notification ON deliveries (notification_id);
-- The dispatcher's queue, in the order it takes it: walking this index in order
-- finds the next due deliveries without sorting everything that waits. (A plain
-- (state, next_attempt_at) index would cost every planned delivery one more
-- b-tree insert and still need a sort across the two states.)
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE state IN ('pending', 'retrying');
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE state = 'sending';
-- What went out since a moment (an account's daily limit counts today's).
CREATE INDEX deliveries_sent ON deliveries (sent_at) WHERE sent_at IS NOT NULL;
-- Failures since the last operator alert.
CREATE INDEX deliveries_failed ON deliveries (updated_at) WHERE state = 'failed';

-- No AUTOINCREMENT: attempts are never deleted, so a plain rowid grows all the
-- same, without a write to sqlite_sequence in every outcome's transaction.
CREATE TABLE attempts (
    id          INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
    at          INTEGER NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('sent', 'transient', 'permanent', 'cancelled')),
    detail      TEXT NOT NULL
);
CREATE INDEX attempts_delivery ON attempts (delivery_id);

-- Digests of failed deliveries sent to the admin addresses ([alerts]): each covers
-- the failures recorded up to `covered_upto` (a deliveries.updated_at), so the next
-- lists only newer ones. A digest that could not be sent covers nothing.
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    covered_upto INTEGER NOT NULL,
    failures    INTEGER NOT NULL,
    sent        INTEGER NOT NULL CHECK (sent IN (0, 1)),
    detail      TEXT NOT NULL
);

CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);

-- `herald serve`'s jobs (planner, dispatcher, heartbeat): when each last started,
-- finished and succeeded, and how often it is meant to run, so `herald status` and
-- /readyz can say "the reminders stopped" instead of letting them stop silently.
-- One row per job per node: several `herald serve` processes may share a store.
CREATE TABLE service_jobs (
    job           TEXT NOT NULL,
    every_ms      INTEGER NOT NULL,   -- the longest a healthy service leaves between runs
    last_started  INTEGER,
    last_finished INTEGER,
    last_ok       INTEGER,
    last_error    TEXT,
    runs          INTEGER NOT NULL DEFAULT 0,
    failures      INTEGER NOT NULL DEFAULT 0,
    -- Who runs it: "herald-PID@HOST", the node.
    holder        TEXT NOT NULL,
    PRIMARY KEY (job, holder)
);

-- API tokens (`herald token create`): only the argon2 hash of the secret is kept;
-- the token itself is shown once. `scopes` is a JSON array of ingest, read, admin.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    hash         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- API requests made with an Idempotency-Key: the same key and request again gets
-- the stored answer, not a second run; the same key with another request is refused.
CREATE TABLE idempotency_keys (
    token_id INTEGER NOT NULL,
    key      TEXT NOT NULL,
    request  TEXT NOT NULL,        -- SHA-256 of method, path and body, hex
    status   INTEGER NOT NULL,
    body     TEXT NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (token_id, key)
) WITHOUT ROWID;

-- Customers and invoices whose notices are held (seed 003: a dispute, a promise to
-- pay): while a hold lasts, their notices are cancelled at send time with its
-- reason. `until` NULL: until resumed.
CREATE TABLE holds (
    subject_kind TEXT NOT NULL CHECK (subject_kind IN ('customer', 'invoice')),
    subject_id   TEXT NOT NULL,
    reason       TEXT NOT NULL,
    until        INTEGER,
    actor        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (subject_kind, subject_id)
) WITHOUT ROWID;

-- What each e-mail account has used of its limits, per period ('day': from the
-- tenant's midnight; 'second'), kept here rather than in each process so that the
-- limits hold across several herald nodes. A node reserves a few messages at a
-- time and gives back what it did not send; `account` '' is the shared account.
CREATE TABLE send_allowance (
    account TEXT NOT NULL,
    period  TEXT NOT NULL CHECK (period IN ('day', 'second')),
    starts  INTEGER NOT NULL,
    used    INTEGER NOT NULL,
    PRIMARY KEY (account, period, starts)
) WITHOUT ROWID;
