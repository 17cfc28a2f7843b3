//! A store's tables copied row for row into another store (`herald migrate-store`):
//! read in key order as JSON text, written with each column cast to the target's
//! type, and read back to compare.

use sqlx::Row;

use super::Conn;
use super::exec::{dynamic, dynamic_scalar, query_as};
use crate::copy::{Column, Kind};
use crate::error::StoreError;

/// `"name"`, quoted for SQL; the names come from the database's own catalog.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The table's columns in order, each with its kind and its place in the primary key.
pub(crate) async fn columns(conn: &mut Conn, table: &str) -> Result<Vec<Column>, StoreError> {
    // PostgreSQL: `indkey` counts from 0, the key's places from 1.
    let rows: Vec<(String, String, i64)> = query_as(pick!(
        "SELECT name, type, pk FROM pragma_table_info($1) ORDER BY cid",
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod), \
         CAST(COALESCE(array_position(i.indkey::int2[], a.attnum) + 1, 0) AS BIGINT) \
         FROM pg_attribute a JOIN pg_class t ON t.oid = a.attrelid \
         LEFT JOIN pg_index i ON i.indrelid = t.oid AND i.indisprimary \
         WHERE t.relname = $1 AND t.relnamespace = current_schema()::regnamespace \
         AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
    ))
    .bind(table)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(name, ty, pk)| Column {
            kind: match ty.to_ascii_lowercase().as_str() {
                "integer" | "bigint" => Kind::Int,
                "boolean" => Kind::Bool,
                _ => Kind::Text,
            },
            name,
            pk: u32::try_from(pk).unwrap_or(0),
        })
        .collect())
}

/// Every table of the schema but the migrator's own.
pub(crate) async fn tables(conn: &mut Conn) -> Result<Vec<String>, StoreError> {
    let rows = dynamic(pick!(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> '_sqlx_migrations' ORDER BY name"
            .to_owned(),
        "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() \
         AND tablename <> '_sqlx_migrations' ORDER BY 1"
            .to_owned(),
    ))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok(r.try_get::<String, _>(0)?))
        .collect()
}

pub(crate) async fn count(conn: &mut Conn, table: &str) -> Result<i64, StoreError> {
    Ok(
        dynamic_scalar(format!("SELECT COUNT(*) FROM {}", quoted(table)))
            .fetch_one(&mut *conn)
            .await?,
    )
}

/// Up to `limit` rows after the first `offset`, in key order, as one JSON array of
/// arrays (`[]` past the end).
pub(crate) async fn read_chunk(
    conn: &mut Conn,
    table: &str,
    columns: &[Column],
    limit: i64,
    offset: i64,
) -> Result<String, StoreError> {
    let list: Vec<String> = columns.iter().map(|c| quoted(&c.name)).collect();
    let list = list.join(", ");
    let mut key: Vec<&Column> = columns.iter().filter(|c| c.pk > 0).collect();
    key.sort_by_key(|c| c.pk);
    let order = if key.is_empty() {
        list.clone()
    } else {
        key.iter()
            .map(|c| quoted(&c.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let table = quoted(table);
    let sql = pick!(
        format!(
            "SELECT json_group_array(json_array({list})) FROM \
             (SELECT {list} FROM {table} ORDER BY {order} LIMIT $1 OFFSET $2) AS page"
        ),
        format!(
            "SELECT COALESCE(json_agg(json_build_array({list}) ORDER BY {order})::text, '[]') FROM \
             (SELECT {list} FROM {table} ORDER BY {order} LIMIT $1 OFFSET $2) AS page"
        ),
    );
    Ok(dynamic_scalar(sql)
        .bind(limit)
        .bind(offset)
        .fetch_one(&mut *conn)
        .await?)
}

/// Inserts rows as [`read_chunk`] gives them, each value cast to its column's type
/// here (a flag that SQLite keeps as 1 becomes PostgreSQL's `true`).
pub(crate) async fn insert_chunk(
    conn: &mut Conn,
    table: &str,
    columns: &[Column],
    rows: &str,
) -> Result<(), StoreError> {
    let names: Vec<String> = columns.iter().map(|c| quoted(&c.name)).collect();
    let values: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| match c.kind {
            Kind::Int => format!("CAST(value ->> {i} AS BIGINT)"),
            Kind::Bool => format!("CAST(value ->> {i} AS BOOLEAN)"),
            Kind::Text => format!("value ->> {i}"),
        })
        .collect();
    dynamic(format!(
        "INSERT INTO {} ({}) SELECT {} FROM json_each($1)",
        quoted(table),
        names.join(", "),
        values.join(", ")
    ))
    .bind(rows)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Empties a table of the target (the rows the migrations put in `meta`).
pub(crate) async fn clear(conn: &mut Conn, table: &str) -> Result<(), StoreError> {
    dynamic(format!("DELETE FROM {}", quoted(table)))
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// After rows came in with their ids: a PostgreSQL identity goes on after the
/// highest (SQLite's AUTOINCREMENT counter follows an explicit id by itself).
pub(crate) async fn ids_follow(conn: &mut Conn, table: &str) -> Result<(), StoreError> {
    if pick!(true, false) {
        return Ok(());
    }
    let sequence: Option<String> =
        dynamic_scalar("SELECT pg_get_serial_sequence($1, 'id')".to_owned())
            .bind(table)
            .fetch_one(&mut *conn)
            .await?;
    if let Some(sequence) = sequence {
        dynamic(format!(
            "SELECT setval($1::regclass, COALESCE((SELECT MAX(id) FROM {}), 0) + 1, false)",
            quoted(table)
        ))
        .bind(sequence)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
