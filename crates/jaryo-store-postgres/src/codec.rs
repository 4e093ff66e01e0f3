//! Conversions between PostgreSQL values and domain types, and from sqlx errors to store
//! errors.

use jaryo_store::StoreError;
use sqlx::error::ErrorKind;
use sqlx::postgres::{PgDatabaseError, PgSeverity};

/// SQLSTATEs that mean "the database could not do it now", not "the request is wrong": worth
/// retrying, shown to a person as 503.
fn is_transient(code: &str) -> bool {
    // 08: connection exceptions. 53: insufficient resources (too many connections, out of
    // memory or disk). 57P01-57P03: the server is shutting down or starting up. 57014: the
    // statement timeout cancelled the query. 40001/40P01: serialization failure, deadlock.
    // 55P03: a lock was not available in time. 57P05: the server ended an idle session.
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("57P")
        || matches!(code, "57014" | "40001" | "40P01" | "55P03")
}

pub fn map_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|code| code.into_owned()).unwrap_or_default();
            // "The database is not currently accepting connections" (an operator closed it
            // for maintenance) comes as a FATAL 55000 when connecting; elsewhere 55000 is a
            // plain error.
            let closed = code == "55000"
                && db.try_downcast_ref::<PgDatabaseError>().is_some_and(|pg| {
                    matches!(pg.severity(), PgSeverity::Fatal | PgSeverity::Panic)
                });
            if closed || is_transient(&code) {
                return StoreError::Unavailable(Box::new(sqlx::Error::Database(db)));
            }
            match db.kind() {
                ErrorKind::CheckViolation
                | ErrorKind::UniqueViolation
                | ErrorKind::ForeignKeyViolation
                | ErrorKind::NotNullViolation => StoreError::Constraint(db.message().to_owned()),
                // A NUL character: PostgreSQL's text and JSONB cannot hold it, SQLite can.
                // The write is refused like any other value the database cannot store.
                _ if matches!(code.as_str(), "22021" | "22P05") => {
                    StoreError::Constraint(db.message().to_owned())
                }
                _ => StoreError::Internal(Box::new(sqlx::Error::Database(db))),
            }
        }
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
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

/// Counts and attempts are never negative in the database; a negative one is corruption.
pub fn to_u32(n: i32) -> Result<u32, StoreError> {
    u32::try_from(n).map_err(StoreError::internal)
}

pub fn to_u64(n: i64) -> Result<u64, StoreError> {
    u64::try_from(n).map_err(StoreError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_and_timeout_states_are_transient_and_bad_input_is_not() {
        for code in [
            "08006", "08001", "57P01", "57P03", "57014", "53300", "40001",
        ] {
            assert!(is_transient(code), "{code}");
        }
        for code in ["23514", "23505", "22021", "42601", "42P01", ""] {
            assert!(!is_transient(code), "{code}");
        }
    }

    #[test]
    fn pool_and_network_failures_are_unavailable() {
        assert!(matches!(
            map_error(sqlx::Error::PoolTimedOut),
            StoreError::Unavailable(_)
        ));
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(matches!(
            map_error(sqlx::Error::Io(refused)),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            map_error(sqlx::Error::RowNotFound),
            StoreError::Internal(_)
        ));
    }
}
