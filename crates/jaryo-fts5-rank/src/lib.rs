//! `jaryo_rank`: an FTS5 auxiliary function ranking rows by Okapi BM25, as FTS5's own `bm25`
//! does, except that the document frequency of each phrase comes from the caller.
//!
//! Why: `bm25` computes each phrase's inverse document frequency on the first row of every
//! query by running the phrase over the whole index (`xQueryPhrase`), so a query for a word in
//! half of 100,000 documents pays for reading all 50,000 matches — with their positions, for
//! a Korean word indexed as a phrase of bigrams — even when only a few hundred rows are ranked.
//! Here the caller passes the frequencies (it may count them with a cap, or know them), and a
//! query with one phrase needs none: its inverse document frequency scales every score alike.
//!
//! ```sql
//! SELECT rowid, jaryo_rank(search_fts, 10.0, 1.0, ?1) AS rank FROM search_fts
//! WHERE search_fts MATCH ?2 ORDER BY rank
//! ```
//!
//! Arguments after the table: one weight per column (1.0 for those left out), then optionally
//! a blob of little-endian `f64`, the number of rows holding each phrase of the query, in the
//! order of the phrases in the MATCH expression; a phrase without one counts as inverse
//! document frequency 1. The result is the negated score, so that lower ranks first, as with
//! `bm25`. Terms per row: FTS5's column sizes (all columns together), k1 = 1.2, b = 0.75.
//! What a query computes once (weights, frequencies, mean row length) is kept per FTS5
//! cursor, so one SELECT should call `jaryo_rank` once per table it ranks.
//!
//! Besides, [`stable_query_plans`] sets a connection option SQLite only offers through its C
//! interface.
//!
//! Safety: the only unsafe code of jaryo. Each unsafe block says what it relies on; the
//! function never unwinds into SQLite (it has no panicking operation) and reports FTS5 errors
//! as SQL errors.

use libsqlite3_sys as ffi;
use sqlx::SqliteConnection;
use std::ffi::{c_int, c_void};
use std::ptr;

/// The SQL name of the function.
pub const FUNCTION_NAME: &str = "jaryo_rank";

const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Registers `jaryo_rank` on one connection (functions are per connection: call it for each,
/// e.g. from a pool's `after_connect`).
pub async fn register(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is the open connection, held locked by `handle` for the whole call, so no
    // other thread uses it meanwhile.
    let rc = unsafe { register_on(db) };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Configuration(
            format!("cannot register the FTS5 function {FUNCTION_NAME} (SQLite code {rc})").into(),
        ))
    }
}

/// Turns on SQLite's query planner stability guarantee on one connection: a statement's plan
/// no longer depends on the values bound to it.
///
/// Without it, a statement whose LIMIT, OFFSET or FTS5 MATCH takes a bound parameter is
/// compiled anew every time new values are bound (SQLite looks at them while planning), which
/// costs a search about a tenth of its time. jaryo plans nothing on bound values (no `LIKE`
/// prefix optimisation, no `ANALYZE` statistics), so nothing is lost.
pub async fn stable_query_plans(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    let mut enabled: c_int = 0;
    // SAFETY: `db` is the open connection, locked by `handle` for the call; this option takes
    // an int and an int pointer, both valid.
    let rc = unsafe {
        ffi::sqlite3_db_config(
            db,
            ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as c_int,
            &raw mut enabled,
        )
    };
    if rc == ffi::SQLITE_OK && enabled == 1 {
        Ok(())
    } else {
        Err(sqlx::Error::Configuration(
            format!("cannot enable stable query plans (SQLite code {rc})").into(),
        ))
    }
}

/// # Safety
/// `db` must be an open connection that nothing else uses during the call.
unsafe fn register_on(db: *mut ffi::sqlite3) -> c_int {
    // SAFETY: as this function's contract; `fts5_api_of` only runs one statement on `db`.
    let Some(api) = (unsafe { fts5_api_of(db) }) else {
        return ffi::SQLITE_ERROR;
    };
    // SAFETY: `api` came from FTS5 itself, which keeps it alive as long as the connection.
    let create = unsafe { (*api).xCreateFunction };
    let Some(create) = create else {
        return ffi::SQLITE_ERROR;
    };
    // SAFETY: the name is a NUL-terminated static string; the function has the signature
    // FTS5 expects and needs no user data, so there is nothing to destroy.
    unsafe {
        create(
            api,
            c"jaryo_rank".as_ptr(),
            ptr::null_mut(),
            Some(jaryo_rank),
            None,
        )
    }
}

/// FTS5's extension API of a connection, as documented: `SELECT fts5(?1)` with a pointer
/// bound under the type "fts5_api_ptr".
///
/// # Safety
/// `db` must be an open connection that nothing else uses during the call.
unsafe fn fts5_api_of(db: *mut ffi::sqlite3) -> Option<*mut ffi::fts5_api> {
    let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
    // SAFETY: `db` is open and ours; the SQL is a NUL-terminated static string.
    let rc = unsafe {
        ffi::sqlite3_prepare_v2(
            db,
            c"SELECT fts5(?1)".as_ptr(),
            -1,
            &mut stmt,
            ptr::null_mut(),
        )
    };
    if rc != ffi::SQLITE_OK || stmt.is_null() {
        return None;
    }
    let mut api: *mut ffi::fts5_api = ptr::null_mut();
    // SAFETY: `stmt` is a prepared statement with one parameter; `api` outlives the step,
    // which is where FTS5 writes through the pointer; the statement is finalized once.
    unsafe {
        ffi::sqlite3_bind_pointer(
            stmt,
            1,
            (&raw mut api).cast::<c_void>(),
            c"fts5_api_ptr".as_ptr(),
            None,
        );
        ffi::sqlite3_step(stmt);
        ffi::sqlite3_finalize(stmt);
    }
    (!api.is_null()).then_some(api)
}

/// What a query computes once, on its first row, and reuses for the others.
struct QueryState {
    /// Weight of each column.
    weights: Vec<f64>,
    /// Inverse document frequency of each phrase.
    idf: Vec<f64>,
    /// Mean tokens per row, all columns together.
    mean_tokens: f64,
    /// Per-row scratch: the weighted occurrences of each phrase.
    frequencies: Vec<f64>,
}

unsafe extern "C" fn jaryo_rank(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    ctx: *mut ffi::sqlite3_context,
    n_val: c_int,
    ap_val: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: FTS5 calls this with its valid API table, the context of the current row and
    // `n_val` argument values at `ap_val`, all alive for the call.
    let outcome = unsafe { rank_row(&*api, fts, n_val, ap_val) };
    // SAFETY: `ctx` is the live result context of this call.
    unsafe {
        match outcome {
            Ok(score) => ffi::sqlite3_result_double(ctx, -score),
            Err(rc) => ffi::sqlite3_result_error_code(ctx, rc),
        }
    }
}

/// An FTS5 API call's result: its SQLite error code on failure.
fn check(rc: c_int) -> Result<(), c_int> {
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rc)
    }
}

/// # Safety
/// As for an FTS5 auxiliary function: `api`, `fts` and the `n_val` values at `ap_val` are
/// those FTS5 passed for the current row.
unsafe fn rank_row(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    n_val: c_int,
    ap_val: *mut *mut ffi::sqlite3_value,
) -> Result<f64, c_int> {
    let missing = ffi::SQLITE_ERROR;
    let (Some(get_aux), Some(inst_count), Some(inst), Some(column_size)) =
        (api.xGetAuxdata, api.xInstCount, api.xInst, api.xColumnSize)
    else {
        return Err(missing);
    };
    // SAFETY: auxiliary data of this query is only ever set below, to a `QueryState`.
    let mut state = unsafe { get_aux(fts, 0) }.cast::<QueryState>();
    if state.is_null() {
        // SAFETY: as this function's contract.
        let fresh = Box::new(unsafe { query_state(api, fts, n_val, ap_val) }?);
        let Some(set_aux) = api.xSetAuxdata else {
            return Err(missing);
        };
        state = Box::into_raw(fresh);
        // SAFETY: FTS5 owns `state` from here and frees it with `free_state` when the query
        // ends (or at once, if this call fails).
        check(unsafe { set_aux(fts, state.cast::<c_void>(), Some(free_state)) })?;
    }
    // SAFETY: `state` is the live `QueryState` of this query, used by one row at a time.
    let state = unsafe { &mut *state };
    state.frequencies.iter_mut().for_each(|f| *f = 0.0);
    let mut count: c_int = 0;
    // SAFETY: `fts` is the current row's context; the out-pointer is valid.
    check(unsafe { inst_count(fts, &mut count) })?;
    for index in 0..count {
        let (mut phrase, mut column, mut offset): (c_int, c_int, c_int) = (0, 0, 0);
        // SAFETY: `index` is below the row's instance count; the out-pointers are valid.
        check(unsafe { inst(fts, index, &mut phrase, &mut column, &mut offset) })?;
        let weight = usize::try_from(column)
            .ok()
            .and_then(|column| state.weights.get(column))
            .copied()
            .unwrap_or(1.0);
        if let Some(frequency) = usize::try_from(phrase)
            .ok()
            .and_then(|phrase| state.frequencies.get_mut(phrase))
        {
            *frequency += weight;
        }
    }
    let mut tokens: c_int = 0;
    // SAFETY: column -1 asks for all columns together; the out-pointer is valid.
    check(unsafe { column_size(fts, -1, &mut tokens) })?;
    let length_norm = K1 * (1.0 - B + B * f64::from(tokens) / state.mean_tokens);
    Ok(state
        .frequencies
        .iter()
        .zip(&state.idf)
        .map(|(&frequency, &idf)| idf * frequency * (K1 + 1.0) / (frequency + length_norm))
        .sum())
}

/// # Safety
/// As [`rank_row`].
unsafe fn query_state(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    n_val: c_int,
    ap_val: *mut *mut ffi::sqlite3_value,
) -> Result<QueryState, c_int> {
    let missing = ffi::SQLITE_ERROR;
    let (Some(column_count), Some(phrase_count), Some(row_count), Some(total_size)) = (
        api.xColumnCount,
        api.xPhraseCount,
        api.xRowCount,
        api.xColumnTotalSize,
    ) else {
        return Err(missing);
    };
    // SAFETY: `fts` is the current row's context.
    let (columns, phrases) = unsafe { (column_count(fts), phrase_count(fts)) };
    let columns = usize::try_from(columns).map_err(|_| missing)?;
    let phrases = usize::try_from(phrases).map_err(|_| missing)?;
    let args: &[*mut ffi::sqlite3_value] = match usize::try_from(n_val) {
        // SAFETY: FTS5 passes `n_val` values at `ap_val`.
        Ok(n) if n > 0 && !ap_val.is_null() => unsafe { std::slice::from_raw_parts(ap_val, n) },
        _ => &[],
    };
    let weights: Vec<f64> = (0..columns)
        .map(|column| {
            args.get(column).map_or(1.0, |&value| {
                // SAFETY: `value` is one of this call's argument values.
                unsafe { ffi::sqlite3_value_double(value) }
            })
        })
        .collect();
    let mut rows: ffi::sqlite3_int64 = 0;
    let mut tokens: ffi::sqlite3_int64 = 0;
    // SAFETY: `fts` is the current row's context; the out-pointers are valid.
    unsafe {
        check(row_count(fts, &mut rows))?;
        check(total_size(fts, -1, &mut tokens))?;
    }
    let rows_f = rows.max(1) as f64;
    let frequencies = match args.get(columns) {
        // SAFETY: `value` is one of this call's argument values; its blob stays valid until
        // the value is next converted, and is copied out at once.
        Some(&value) => unsafe { document_frequencies(value) },
        None => Vec::new(),
    };
    let idf = (0..phrases)
        .map(|phrase| {
            frequencies.get(phrase).map_or(1.0, |&n| {
                // BM25's inverse document frequency, kept positive for very common phrases.
                (((rows_f - n + 0.5) / (n + 0.5)).ln()).max(1e-6)
            })
        })
        .collect();
    Ok(QueryState {
        weights,
        idf,
        mean_tokens: (tokens as f64 / rows_f).max(1.0),
        frequencies: vec![0.0; phrases],
    })
}

/// The little-endian `f64`s of a blob argument (none for NULL or anything else).
///
/// # Safety
/// `value` must be a live argument value of the current call.
unsafe fn document_frequencies(value: *mut ffi::sqlite3_value) -> Vec<f64> {
    // SAFETY: as this function's contract.
    if unsafe { ffi::sqlite3_value_type(value) } != ffi::SQLITE_BLOB {
        return Vec::new();
    }
    // SAFETY: as this function's contract; the size is read after the pointer, as SQLite
    // advises, and the bytes are copied before anything else touches the value.
    let bytes = unsafe {
        let data = ffi::sqlite3_value_blob(value).cast::<u8>();
        let len = usize::try_from(ffi::sqlite3_value_bytes(value)).unwrap_or(0);
        if data.is_null() || len == 0 {
            return Vec::new();
        }
        std::slice::from_raw_parts(data, len)
    };
    bytes
        .chunks_exact(8)
        .map(|chunk| {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            f64::from_le_bytes(word)
        })
        .collect()
}

/// The blob `jaryo_rank` takes for document frequencies.
pub fn frequencies_blob(frequencies: &[f64]) -> Vec<u8> {
    frequencies.iter().flat_map(|n| n.to_le_bytes()).collect()
}

unsafe extern "C" fn free_state(state: *mut c_void) {
    if !state.is_null() {
        // SAFETY: the only auxiliary data this crate sets is a boxed `QueryState`, and FTS5
        // calls this exactly once for it.
        drop(unsafe { Box::from_raw(state.cast::<QueryState>()) });
    }
}
