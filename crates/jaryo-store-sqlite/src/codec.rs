//! Conversions between SQLite values and domain types, and from sqlx errors to store errors.

use chrono::{DateTime, SecondsFormat, Utc};
use jaryo_domain::Timestamp;
use jaryo_store::StoreError;
use serde::Serialize;
use sqlx::SqliteConnection;
use sqlx::error::ErrorKind;

/// Timestamps are stored as text in one fixed-width format, so comparing the text compares
/// the times.
pub fn encode_time(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn decode_time(text: &str) -> Result<Timestamp, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::internal(format!("bad timestamp {text:?} in database: {e}")))
}

pub fn decode_opt_time(text: Option<String>) -> Result<Option<Timestamp>, StoreError> {
    text.as_deref().map(decode_time).transpose()
}

/// Many rows in one value: `rows` as a JSON array, for a statement that reads them with
/// `json_each`. One statement for many rows is one round trip to SQLite's thread, which costs
/// more than the rows it carries.
pub fn json_rows<T: Serialize + ?Sized>(rows: &T) -> Result<String, StoreError> {
    serde_json::to_string(rows).map_err(StoreError::internal)
}

/// Runs `sql` with [`json_rows`] of `rows` bound as `?1`.
pub async fn execute_with_rows<T: Serialize + ?Sized>(
    conn: &mut SqliteConnection,
    sql: &'static str,
    rows: &T,
) -> Result<(), StoreError> {
    sqlx::query(sql)
        .bind(json_rows(rows)?)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    Ok(())
}

pub fn map_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(db) => {
            // SQLITE_BUSY (5), SQLITE_LOCKED (6) and their extended codes: the lock was
            // held past the busy timeout.
            let busy = db
                .code()
                .and_then(|code| code.parse::<i32>().ok())
                .is_some_and(|code| matches!(code & 0xff, 5 | 6));
            if busy {
                return StoreError::Unavailable(Box::new(sqlx::Error::Database(db)));
            }
            match db.kind() {
                ErrorKind::CheckViolation
                | ErrorKind::UniqueViolation
                | ErrorKind::ForeignKeyViolation
                | ErrorKind::NotNullViolation => StoreError::Constraint(db.message().to_owned()),
                _ => StoreError::Internal(Box::new(sqlx::Error::Database(db))),
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::WorkerCrashed => StoreError::Unavailable(Box::new(error)),
        other => StoreError::Internal(Box::new(other)),
    }
}

pub fn parse_enum<T: std::str::FromStr>(text: &str) -> Result<T, StoreError>
where
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.parse::<T>().map_err(StoreError::internal)
}

pub fn decode_json_object(
    text: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
    serde_json::from_str(text).map_err(StoreError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn time_text_sorts_like_time() {
        let early = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let later = early + chrono::Duration::microseconds(1);
        let much_later = early + chrono::Duration::days(400);
        assert!(encode_time(early) < encode_time(later));
        assert!(encode_time(later) < encode_time(much_later));
        assert_eq!(encode_time(early).len(), encode_time(later).len());
        assert_eq!(decode_time(&encode_time(later)).unwrap(), later);
    }
}
