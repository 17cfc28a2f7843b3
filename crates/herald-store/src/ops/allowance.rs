//! The e-mail accounts' limits as the store keeps them (see `send_allowance` in the
//! schema): every node reserves from the same count, so together they keep to a
//! provider's limit.

use jiff::Timestamp;

use super::Backend;
use super::exec::{query, query_scalar};
use crate::error::StoreError;
use crate::sql::ms;

impl Backend {
    pub(crate) async fn reserve_allowance(
        &self,
        account: Option<&str>,
        period: &str,
        starts: Timestamp,
        limit: u32,
        want: u32,
    ) -> Result<u32, StoreError> {
        let mut tx = self.write().await?;
        // A day starts from what the store shows sent that day (a node of an older
        // run, or a restart, sent them); a second starts from nothing.
        query(
            "INSERT INTO send_allowance (account, period, starts, used) \
             SELECT $1, $2, $3, CASE WHEN $2 = 'day' THEN (SELECT COUNT(*) FROM deliveries \
               WHERE sent_at >= $3 AND channel = 'email' AND account IS NOT DISTINCT FROM $4) ELSE 0 END \
             ON CONFLICT DO NOTHING",
        )
        .bind(account.unwrap_or(""))
        .bind(period)
        .bind(ms(starts))
        .bind(account)
        .execute(&mut *tx)
        .await?;
        let used: i64 = query_scalar(
            "SELECT used FROM send_allowance WHERE account = $1 AND period = $2 AND starts = $3",
        )
        .bind(account.unwrap_or(""))
        .bind(period)
        .bind(ms(starts))
        .fetch_one(&mut *tx)
        .await?;
        let granted = (i64::from(limit) - used).clamp(0, i64::from(want));
        if granted > 0 {
            query(
                "UPDATE send_allowance SET used = used + $4 WHERE account = $1 AND period = $2 AND starts = $3",
            )
            .bind(account.unwrap_or(""))
            .bind(period)
            .bind(ms(starts))
            .bind(granted)
            .execute(&mut *tx)
            .await?;
        }
        // Seconds gone by are of no more use.
        if period == "second" {
            query("DELETE FROM send_allowance WHERE period = 'second' AND starts < $1")
                .bind(ms(starts) - 60_000)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(u32::try_from(granted).unwrap_or(0))
    }

    pub(crate) async fn return_allowance(
        &self,
        account: Option<&str>,
        period: &str,
        starts: Timestamp,
        unused: u32,
    ) -> Result<(), StoreError> {
        if unused == 0 {
            return Ok(());
        }
        let mut tx = self.write().await?;
        query(
            "UPDATE send_allowance SET used = CASE WHEN used > $4 THEN used - $4 ELSE 0 END \
             WHERE account = $1 AND period = $2 AND starts = $3",
        )
        .bind(account.unwrap_or(""))
        .bind(period)
        .bind(ms(starts))
        .bind(i64::from(unused))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
