//! API tokens and idempotent answers as stored; see `crate::tokens`.

use jiff::Timestamp;

use super::Backend;
use super::exec::{dynamic_as, query, query_as, query_scalar};
use crate::error::StoreError;
use crate::sql::{self, ms};
use crate::tokens::{ApiToken, IdempotentAnswer};

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    name: String,
    scopes: String,
    hash: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TokenRow {
    fn into_token(self) -> Result<ApiToken, StoreError> {
        Ok(ApiToken {
            id: self.id,
            name: self.name,
            scopes: serde_json::from_str(&self.scopes).map_err(|e| {
                StoreError::Corrupt(format!("token {}'s scopes {:?}: {e}", self.id, self.scopes))
            })?,
            hash: self.hash,
            created_at: sql::ts(self.created_at)?,
            last_used_at: sql::opt_ts(self.last_used_at)?,
            revoked_at: sql::opt_ts(self.revoked_at)?,
        })
    }
}

const COLS: &str = "id, name, scopes, hash, created_at, last_used_at, revoked_at";

impl Backend {
    pub(crate) async fn create_token(
        &self,
        name: &str,
        scopes: &[String],
        hash: &str,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id: i64 = query_scalar(
            "INSERT INTO api_tokens (name, scopes, hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(name)
        .bind(serde_json::to_string(scopes).unwrap_or_else(|_| "[]".into()))
        .bind(hash)
        .bind(ms(at))
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub(crate) async fn token(&self, id: i64) -> Result<Option<ApiToken>, StoreError> {
        let row: Option<TokenRow> =
            dynamic_as(format!("SELECT {COLS} FROM api_tokens WHERE id = $1"))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(TokenRow::into_token).transpose()
    }

    pub(crate) async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows: Vec<TokenRow> =
            dynamic_as(format!("SELECT {COLS} FROM api_tokens ORDER BY id DESC"))
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(TokenRow::into_token).collect()
    }

    pub(crate) async fn revoke_token(&self, id: i64, at: Timestamp) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let n = query("UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(ms(at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    pub(crate) async fn token_used(&self, id: i64, at: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(ms(at))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

impl Backend {
    pub(crate) async fn idempotent_answer(
        &self,
        token_id: i64,
        key: &str,
    ) -> Result<Option<IdempotentAnswer>, StoreError> {
        let row: Option<(String, i64, String)> = query_as(
            "SELECT request, status, body FROM idempotency_keys WHERE token_id = $1 AND key = $2",
        )
        .bind(token_id)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(request, status, body)| IdempotentAnswer {
            request,
            status: u16::try_from(status).unwrap_or(500),
            body,
        }))
    }

    pub(crate) async fn keep_idempotent_answer(
        &self,
        token_id: i64,
        key: &str,
        answer: &IdempotentAnswer,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        query(
            "INSERT INTO idempotency_keys (token_id, key, request, status, body, at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
        )
        .bind(token_id)
        .bind(key)
        .bind(&answer.request)
        .bind(i64::from(answer.status))
        .bind(&answer.body)
        .bind(ms(at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
