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
//! a JSON array of numbers as text, the number of rows holding each phrase of the query, in
//! the order of the phrases in the MATCH expression; a phrase without one (or with NULL for
//! the array) counts as inverse document frequency 1. The result is the negated score, so
//! that lower ranks first, as with `bm25`. Terms per row: FTS5's column sizes (all columns
//! together), k1 = 1.2, b = 0.75. What a query computes once (weights, frequencies, mean row
//! length) is kept per FTS5 cursor, so one SELECT should call `jaryo_rank` once per table it
//! ranks.
//!
//! A row's size is read from the table's `%_docsize` shadow table through one blob handle
//! that stays open for the whole query (its cursor keeps its place in the B-tree), instead
//! of FTS5's `xColumnSize`, which runs and resets a statement for every row — half the cost
//! of ranking. The handle is checked against `xColumnSize` on the query's first row; should
//! the two ever disagree, or the handle fail, the query goes on with `xColumnSize`.
//!
//! Besides: the aggregate `jaryo_top` (module `top`), which keeps a page of the best-ranked
//! rows in one pass; [`stable_query_plans`], which sets a connection option SQLite only
//! offers through its C interface; and [`retain_freed_heap`], which keeps the C allocator
//! from trimming the memory a search's results take and give back (module `heap`).
//!
//! Safety: the only unsafe code of jaryo. Each unsafe block says what it relies on; the
//! function never unwinds into SQLite (it has no panicking operation) and reports FTS5 errors
//! as SQL errors.

use libsqlite3_sys as ffi;
use sqlx::SqliteConnection;
use std::ffi::{CString, c_int, c_void};
use std::ptr;

mod heap;
mod top;
pub use heap::retain_freed_heap;
pub use top::TOP_FUNCTION;

/// The SQL name of the function.
pub const FUNCTION_NAME: &str = "jaryo_rank";

const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Registers `jaryo_rank` on one connection, for ranking rows of the FTS5 table `table` (the
/// one whose `%_docsize` it reads row sizes from), and the aggregate [`TOP_FUNCTION`].
/// Functions are per connection: call it for each, e.g. from a pool's `after_connect`.
pub async fn register(conn: &mut SqliteConnection, table: &str) -> Result<(), sqlx::Error> {
    let docsize = CString::new(format!("{table}_docsize")).map_err(|_| {
        sqlx::Error::Configuration(format!("no FTS5 table can be called {table:?}").into())
    })?;
    let mut handle = conn.lock_handle().await?;
    let db = handle.as_raw_handle().as_ptr();
    // SAFETY: `db` is the open connection, held locked by `handle` for the whole call, so no
    // other thread uses it meanwhile.
    let rc = unsafe { register_on(db, Box::new(Registration { docsize })) };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Configuration(
            format!("cannot register the FTS5 function {FUNCTION_NAME} (SQLite code {rc})").into(),
        ))
    }
}

/// What the function knows from its registration: where the ranked table's row sizes are.
struct Registration {
    /// The `%_docsize` shadow table of the ranked FTS5 table.
    docsize: CString,
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
unsafe fn register_on(db: *mut ffi::sqlite3, registration: Box<Registration>) -> c_int {
    // SAFETY: as this function's contract; `fts5_api_of` only runs one statement on `db`.
    let Some(api) = (unsafe { fts5_api_of(db) }) else {
        return ffi::SQLITE_ERROR;
    };
    // SAFETY: `api` came from FTS5 itself, which keeps it alive as long as the connection.
    let create = unsafe { (*api).xCreateFunction };
    let Some(create) = create else {
        return ffi::SQLITE_ERROR;
    };
    let user_data = Box::into_raw(registration).cast::<c_void>();
    // SAFETY: the name is a NUL-terminated static string; the function has the signature
    // FTS5 expects; once registered, FTS5 owns `user_data` and frees it with
    // `free_registration` when the connection closes.
    let rc = unsafe {
        create(
            api,
            c"jaryo_rank".as_ptr(),
            user_data,
            Some(jaryo_rank),
            Some(free_registration),
        )
    };
    if rc != ffi::SQLITE_OK {
        // SAFETY: FTS5 keeps the user data only when it registers the function.
        unsafe { free_registration(user_data) };
        return rc;
    }
    // SAFETY: `db` is open and ours (this function's contract).
    unsafe { top::register_top(db) }
}

unsafe extern "C" fn free_registration(registration: *mut c_void) {
    if !registration.is_null() {
        // SAFETY: the only user data this crate registers is a boxed `Registration`, and FTS5
        // calls this exactly once for it.
        drop(unsafe { Box::from_raw(registration.cast::<Registration>()) });
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
    /// Where row sizes are read; `None` once it failed, and FTS5's `xColumnSize` serves.
    sizes: Option<DocsizeBlob>,
}

/// A blob handle on the `sz` column of an FTS5 table's `%_docsize`, moved from row to row.
/// Closed when dropped.
struct DocsizeBlob {
    blob: *mut ffi::sqlite3_blob,
    /// Scratch for one row's record.
    record: Vec<u8>,
}

impl DocsizeBlob {
    /// Opens the handle on `rowid`'s record in `docsize` (a table name).
    ///
    /// # Safety
    /// `db` must be the connection running the current query, used by this thread only.
    unsafe fn open(db: *mut ffi::sqlite3, docsize: &CString, rowid: i64) -> Option<Self> {
        let mut blob: *mut ffi::sqlite3_blob = ptr::null_mut();
        // SAFETY: as this function's contract; every name is NUL-terminated; flags 0 opens it
        // read-only; `blob` is a valid out-pointer.
        let rc = unsafe {
            ffi::sqlite3_blob_open(
                db,
                c"main".as_ptr(),
                docsize.as_ptr(),
                c"sz".as_ptr(),
                rowid,
                0,
                &mut blob,
            )
        };
        if rc != ffi::SQLITE_OK {
            if !blob.is_null() {
                // SAFETY: SQLite may hand back a handle on failure; it is closed once.
                unsafe { ffi::sqlite3_blob_close(blob) };
            }
            return None;
        }
        Some(Self {
            blob,
            record: Vec::with_capacity(16),
        })
    }

    /// The tokens of the row the handle is on, all columns together: the record's varints
    /// (one per column), or `None` if it is not a record of `columns` varints.
    fn tokens(&mut self, columns: usize) -> Option<i64> {
        // SAFETY: `self.blob` is an open handle.
        let bytes = unsafe { ffi::sqlite3_blob_bytes(self.blob) };
        self.record.resize(usize::try_from(bytes).ok()?, 0);
        // SAFETY: `record` holds exactly `bytes` writable bytes, read from offset 0.
        let rc =
            unsafe { ffi::sqlite3_blob_read(self.blob, self.record.as_mut_ptr().cast(), bytes, 0) };
        if rc != ffi::SQLITE_OK {
            return None;
        }
        let mut at = 0;
        let mut total = 0i64;
        for _ in 0..columns {
            total += i64::try_from(read_varint(&self.record, &mut at)?).ok()?;
        }
        (at == self.record.len()).then_some(total)
    }

    /// Moves the handle to `rowid`'s record.
    fn seek(&mut self, rowid: i64) -> Result<(), c_int> {
        // SAFETY: `self.blob` is an open handle of the current query's connection.
        check(unsafe { ffi::sqlite3_blob_reopen(self.blob, rowid) })
    }
}

impl Drop for DocsizeBlob {
    fn drop(&mut self) {
        // SAFETY: the handle is open and closed exactly once, here.
        unsafe { ffi::sqlite3_blob_close(self.blob) };
    }
}

/// One SQLite varint (big-endian groups of seven bits, the ninth byte whole) from
/// `bytes[*at..]`, advancing `at`.
fn read_varint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for index in 0..9 {
        let byte = *bytes.get(*at)?;
        *at += 1;
        if index == 8 {
            return Some((value << 8) | u64::from(byte));
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    Some(value)
}

unsafe extern "C" fn jaryo_rank(
    api: *const ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    ctx: *mut ffi::sqlite3_context,
    n_val: c_int,
    ap_val: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: FTS5 calls this with its valid API table, the context of the current row, the
    // live result context (whose connection runs the query) and `n_val` argument values at
    // `ap_val`, all alive for the call.
    let outcome = unsafe {
        let db = ffi::sqlite3_context_db_handle(ctx);
        rank_row(&*api, fts, db, n_val, ap_val)
    };
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
/// those FTS5 passed for the current row, and `db` is the connection running the query.
unsafe fn rank_row(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    db: *mut ffi::sqlite3,
    n_val: c_int,
    ap_val: *mut *mut ffi::sqlite3_value,
) -> Result<f64, c_int> {
    let missing = ffi::SQLITE_ERROR;
    let (Some(get_aux), Some(inst_count), Some(inst), Some(rowid_of)) =
        (api.xGetAuxdata, api.xInstCount, api.xInst, api.xRowid)
    else {
        return Err(missing);
    };
    // SAFETY: `fts` is the current row's context.
    let rowid = unsafe { rowid_of(fts) };
    // SAFETY: auxiliary data of this query is only ever set below, to a `QueryState`.
    let mut state = unsafe { get_aux(fts, 0) }.cast::<QueryState>();
    let first_row = state.is_null();
    if first_row {
        // SAFETY: as this function's contract.
        let fresh = Box::new(unsafe { query_state(api, fts, db, rowid, n_val, ap_val) }?);
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
    // The first row's size was read (and checked) by `query_state`, with the handle left on it.
    if !first_row
        && let Some(sizes) = &mut state.sizes
        && sizes.seek(rowid).is_err()
    {
        state.sizes = None;
    }
    let columns = state.weights.len();
    let tokens = match state.sizes.as_mut().and_then(|sizes| sizes.tokens(columns)) {
        Some(tokens) => tokens,
        None => {
            state.sizes = None;
            // SAFETY: as this function's contract.
            i64::from(unsafe { column_size(api, fts) }?)
        }
    };
    let length_norm = K1 * (1.0 - B + B * tokens as f64 / state.mean_tokens);
    Ok(state
        .frequencies
        .iter()
        .zip(&state.idf)
        .map(|(&frequency, &idf)| idf * frequency * (K1 + 1.0) / (frequency + length_norm))
        .sum())
}

/// The current row's tokens, all columns together, as FTS5 counts them.
///
/// # Safety
/// `fts` is the current row's context of `api`.
unsafe fn column_size(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
) -> Result<c_int, c_int> {
    let column_size = api.xColumnSize.ok_or(ffi::SQLITE_ERROR)?;
    let mut tokens: c_int = 0;
    // SAFETY: column -1 asks for all columns together; the out-pointer is valid.
    check(unsafe { column_size(fts, -1, &mut tokens) })?;
    Ok(tokens)
}

/// # Safety
/// As [`rank_row`]; `rowid` is the current row's.
unsafe fn query_state(
    api: &ffi::Fts5ExtensionApi,
    fts: *mut ffi::Fts5Context,
    db: *mut ffi::sqlite3,
    rowid: i64,
    n_val: c_int,
    ap_val: *mut *mut ffi::sqlite3_value,
) -> Result<QueryState, c_int> {
    let missing = ffi::SQLITE_ERROR;
    let (
        Some(column_count),
        Some(phrase_count),
        Some(row_count),
        Some(total_size),
        Some(user_data),
    ) = (
        api.xColumnCount,
        api.xPhraseCount,
        api.xRowCount,
        api.xColumnTotalSize,
        api.xUserData,
    )
    else {
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
        // SAFETY: `value` is one of this call's argument values.
        Some(&value) => unsafe { document_frequencies(value) }?,
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
    // SAFETY: the function's user data is the `Registration` it was registered with, alive
    // as long as the connection.
    let registration = unsafe { &*user_data(fts).cast::<Registration>() };
    // SAFETY: `db` runs this query, on this thread.
    let mut sizes = unsafe { DocsizeBlob::open(db, &registration.docsize, rowid) };
    if let Some(blob) = &mut sizes {
        // Read sizes only where they are what FTS5 itself would say.
        // SAFETY: as this function's contract.
        let expected = i64::from(unsafe { column_size(api, fts) }?);
        if blob.tokens(columns) != Some(expected) {
            sizes = None;
        }
    }
    Ok(QueryState {
        weights,
        idf,
        mean_tokens: (tokens as f64 / rows_f).max(1.0),
        frequencies: vec![0.0; phrases],
        sizes,
    })
}

/// The numbers of a JSON array given as text (none for NULL); anything else is a misuse,
/// reported as an SQL error rather than ranked with made-up frequencies.
///
/// # Safety
/// `value` must be a live argument value of the current call.
unsafe fn document_frequencies(value: *mut ffi::sqlite3_value) -> Result<Vec<f64>, c_int> {
    // SAFETY: as this function's contract.
    match unsafe { ffi::sqlite3_value_type(value) } {
        ffi::SQLITE_NULL => return Ok(Vec::new()),
        ffi::SQLITE_TEXT => {}
        _ => return Err(ffi::SQLITE_MISMATCH),
    }
    // SAFETY: as this function's contract; the size is read after the pointer, as SQLite
    // advises, and the bytes are parsed before anything else touches the value.
    let text = unsafe {
        let data = ffi::sqlite3_value_text(value);
        let len = usize::try_from(ffi::sqlite3_value_bytes(value)).unwrap_or(0);
        if data.is_null() {
            return Ok(Vec::new());
        }
        std::slice::from_raw_parts(data, len)
    };
    serde_json::from_slice(text).map_err(|_| ffi::SQLITE_MISMATCH)
}

unsafe extern "C" fn free_state(state: *mut c_void) {
    if !state.is_null() {
        // SAFETY: the only auxiliary data this crate sets is a boxed `QueryState`, and FTS5
        // calls this exactly once for it.
        drop(unsafe { Box::from_raw(state.cast::<QueryState>()) });
    }
}
