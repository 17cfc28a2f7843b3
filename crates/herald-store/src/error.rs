//! What can go wrong in the store, each message saying what to do about it.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot create the directory {dir} for the database: {source}; check the permissions or set [store] url to a writable place"
    )]
    CreateDir {
        dir: PathBuf,
        source: std::io::Error,
    },

    #[error(
        "cannot open the database {path}: {source}; check that the file is a herald database and that herald may read and write it"
    )]
    Open { path: PathBuf, source: sqlx::Error },

    #[error(
        "cannot connect to the PostgreSQL database {at}: {source}; check that PostgreSQL runs there and that the URL's host, port, database, user and password are right"
    )]
    Connect { at: String, source: sqlx::Error },

    #[error(
        "there is no database at {path}: run `herald init` to create it, or point [store] url at the right file"
    )]
    Missing { path: PathBuf },

    #[error(
        "the database {at} was written by a newer herald (its schema is at version {version}; this herald knows versions up to {known}) and is left untouched: upgrade herald to the version that wrote it"
    )]
    NewerSchema {
        at: String,
        version: i64,
        known: i64,
    },

    #[error(
        "cannot bring the database {at} up to date: {source}; if it was written by a newer herald, upgrade herald"
    )]
    Migrate {
        at: String,
        source: sqlx::migrate::MigrateError,
    },

    #[error(
        "the store refused the batch, nothing was written: {0}; import the records it refers to first (customers before contacts and invoices, invoices before payments)"
    )]
    MissingReference(String),

    #[error("the store refused the batch, nothing was written: {0}")]
    Constraint(String),

    #[error(
        "payment {payment} is for invoice {invoice}, which is not in the store; nothing was written: import the invoice first"
    )]
    UnknownInvoice { payment: String, invoice: String },

    #[error("cannot copy the store: {0}")]
    Copy(String),

    #[error("notification {0} does not exist: look the id up with `herald history`")]
    NoSuchNotification(i64),

    #[error("notification {0} was never addressed to anyone: give the address to resend it to")]
    NothingToResend(i64),

    #[error(
        "the database holds a value herald cannot read ({0}); was it edited by hand? Fix or delete that row"
    )]
    Corrupt(String),

    #[error(
        "the database is busy: another herald process holds it for longer than 5 s, or a concurrent transaction conflicted with this one; nothing was written: try again, or stop the other process"
    )]
    Busy(#[source] sqlx::Error),

    #[error("database error: {0}")]
    Db(#[source] sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        if let sqlx::Error::Database(db) = &e {
            // PostgreSQL says which key in its detail ("Key (id)=(FV-1) is duplicated.").
            let msg = match db
                .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .and_then(|pg| pg.detail())
            {
                Some(detail) => format!("{}: {detail}", db.message()),
                None => db.message().to_owned(),
            };
            match db.kind() {
                ErrorKind::ForeignKeyViolation => return StoreError::MissingReference(msg),
                ErrorKind::UniqueViolation
                | ErrorKind::NotNullViolation
                | ErrorKind::CheckViolation => {
                    return StoreError::Constraint(msg);
                }
                _ => {}
            }
            // PostgreSQL: a deadlock or a serialization failure; the transaction
            // was rolled back whole, and trying again is the documented remedy.
            if matches!(db.code().as_deref(), Some("40001" | "40P01")) {
                return StoreError::Busy(e);
            }
            if msg.contains("database is locked") || msg.contains("database is busy") {
                return StoreError::Busy(e);
            }
        }
        StoreError::Db(e)
    }
}

impl From<jiff::Error> for StoreError {
    fn from(e: jiff::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
