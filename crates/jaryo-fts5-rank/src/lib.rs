//! `jaryo_rank`: an FTS5 auxiliary function ranking rows by Okapi BM25, as FTS5's own `bm25`
//! does, except that the document frequency of each phrase comes from the caller and the row
//! sizes from a table of blocks beside the index (module [`lengths`]).
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
//! Row sizes: FTS5's `xColumnSize` runs and resets a statement on its `%_docsize` table for
//! every row, and even a blob handle kept open on that table seeks its B-tree from the root
//! for each row — more than everything else ranking a row costs. So the sizes are read from
//! the lengths table named at registration, a block of 256 rows at a time, through one blob
//! handle that stays open for the query. A row whose block does not know its size is asked of
//! FTS5; and the query's first row is checked against FTS5: should they disagree (or the
//! table be missing), the whole query goes on with `xColumnSize`. Blocks can make ranking
//! faster, never wrong.
//!
//! Besides: the aggregate `jaryo_top` (module `top`), which keeps a page of the best-ranked
//! rows in one pass; and [`retain_freed_heap`], which keeps the C allocator from trimming the
//! memory a search's results take and give back (module `heap`).
//!
//! Safety: the only unsafe code of jaryo. Each unsafe block says what it relies on; the
//! function never unwinds into SQLite (it has no panicking operation) and reports FTS5 errors
//! as SQL errors.

use libsqlite3_sys as ffi;
use std::ffi::{CString, c_int, c_void};
use std::ptr;

mod heap;
pub mod lengths;
mod top;
pub use heap::retain_freed_heap;
pub use top::TOP_FUNCTION;

/// The SQL name of the function.
pub const FUNCTION_NAME: &str = "jaryo_rank";

const K1: f64 = 1.2;
const B: f64 = 0.75;

/// Registers `jaryo_rank` on one connection, reading row sizes from the table `lengths`
/// (`block INTEGER PRIMARY KEY, sizes BLOB`, see [`lengths`]; it may be missing, or not yet
/// created), and the aggregate [`TOP_FUNCTION`]. Functions are per connection: call it for
/// each.
pub fn register(conn: &rusqlite::Connection, lengths: &str) -> rusqlite::Result<()> {
    let lengths = CString::new(lengths).map_err(|_| {
        rusqlite::Error::InvalidParameterName(format!("no table can be called {lengths:?}"))
    })?;
    // SAFETY: the handle is the open connection, which `conn` (not `Sync`) keeps to this
    // thread for the whole call.
    let rc = unsafe { register_on(conn.handle(), Box::new(Registration { lengths })) };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(rusqlite::Error::SqliteFailure(
            ffi::Error::new(rc),
            Some(format!("cannot register the FTS5 function {FUNCTION_NAME}")),
        ))
    }
}

/// What the function knows from its registration: where the ranked table's row sizes are.
struct Registration {
    /// The table of [`lengths`] blocks.
    lengths: CString,
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
    /// Where row sizes are read; `None` once they proved unusable, and FTS5's `xColumnSize`
    /// serves.
    sizes: Option<LengthBlocks>,
}

/// A blob handle on the `sizes` column of the registered lengths table, moved from block to
/// block, and the block it is on. Closed when dropped.
struct LengthBlocks {
    blob: *mut ffi::sqlite3_blob,
    block: i64,
    bytes: [u8; lengths::BLOCK_BYTES],
}

impl LengthBlocks {
    /// Opens the handle on the block of `rowid` in the table `lengths`.
    ///
    /// # Safety
    /// `db` must be the connection running the current query, used by this thread only.
    unsafe fn open(db: *mut ffi::sqlite3, lengths: &CString, rowid: i64) -> Option<Self> {
        let block = lengths::block_of(rowid);
        let mut blob: *mut ffi::sqlite3_blob = ptr::null_mut();
        // SAFETY: as this function's contract; every name is NUL-terminated; flags 0 opens it
        // read-only; `blob` is a valid out-pointer.
        let rc = unsafe {
            ffi::sqlite3_blob_open(
                db,
                c"main".as_ptr(),
                lengths.as_ptr(),
                c"sizes".as_ptr(),
                block,
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
        let mut blocks = Self {
            blob,
            block,
            bytes: [0; lengths::BLOCK_BYTES],
        };
        blocks.read().ok()?;
        Some(blocks)
    }

    /// Reads the block the handle is on; a blob of another size is not a block.
    fn read(&mut self) -> Result<(), c_int> {
        // SAFETY: `self.blob` is an open handle.
        let bytes = unsafe { ffi::sqlite3_blob_bytes(self.blob) };
        if usize::try_from(bytes) != Ok(lengths::BLOCK_BYTES) {
            return Err(ffi::SQLITE_CORRUPT);
        }
        // SAFETY: `self.bytes` holds exactly `bytes` writable bytes, read from offset 0.
        check(unsafe {
            ffi::sqlite3_blob_read(self.blob, self.bytes.as_mut_ptr().cast(), bytes, 0)
        })
    }

    /// `rowid`'s size: `Ok(None)` if its block does not know it, `Err` if the blocks cannot be
    /// read any more (a missing block leaves the handle unusable).
    fn tokens(&mut self, rowid: i64) -> Result<Option<u32>, c_int> {
        let block = lengths::block_of(rowid);
        if block != self.block {
            // SAFETY: `self.blob` is an open handle of the current query's connection.
            check(unsafe { ffi::sqlite3_blob_reopen(self.blob, block) })?;
            self.block = block;
            self.read()?;
        }
        Ok(lengths::size_in(&self.bytes, rowid))
    }
}

impl Drop for LengthBlocks {
    fn drop(&mut self) {
        // SAFETY: the handle is open and closed exactly once, here.
        unsafe { ffi::sqlite3_blob_close(self.blob) };
    }
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
    let (Some(get_aux), Some(phrase_first), Some(phrase_next), Some(rowid_of)) = (
        api.xGetAuxdata,
        api.xPhraseFirst,
        api.xPhraseNext,
        api.xRowid,
    ) else {
        return Err(missing);
    };
    // SAFETY: `fts` is the current row's context.
    let rowid = unsafe { rowid_of(fts) };
    // SAFETY: auxiliary data of this query is only ever set below, to a `QueryState`.
    let mut state = unsafe { get_aux(fts, 0) }.cast::<QueryState>();
    if state.is_null() {
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
    // Each phrase's occurrences in the row, weighted by column: walked phrase by phrase
    // (`xInstCount` would first merge every phrase's into one sorted array).
    for (phrase, frequency) in state.frequencies.iter_mut().enumerate() {
        *frequency = 0.0;
        let mut iter = ffi::Fts5PhraseIter {
            a: ptr::null(),
            b: ptr::null(),
        };
        let (mut column, mut offset): (c_int, c_int) = (0, 0);
        // SAFETY: `fts` is the current row's context and `phrase` one of its query's phrases
        // (the state was made for this query); the iterator and out-pointers are valid.
        check(unsafe { phrase_first(fts, phrase as c_int, &mut iter, &mut column, &mut offset) })?;
        // A negative column ends the row's occurrences.
        while let Ok(index) = usize::try_from(column) {
            *frequency += state.weights.get(index).copied().unwrap_or(1.0);
            // SAFETY: the iterator was set up by `phrase_first` for this row, just above.
            unsafe { phrase_next(fts, &mut iter, &mut column, &mut offset) };
        }
    }
    let known = match &mut state.sizes {
        Some(sizes) => match sizes.tokens(rowid) {
            Ok(known) => known,
            Err(_) => {
                // A block that cannot be read: FTS5's sizes for the rest of the query.
                state.sizes = None;
                None
            }
        },
        None => None,
    };
    let tokens = match known {
        Some(tokens) => i64::from(tokens),
        // SAFETY: as this function's contract.
        None => i64::from(unsafe { column_size(api, fts) }?),
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
    let mut sizes = unsafe { LengthBlocks::open(db, &registration.lengths, rowid) };
    if let Some(blocks) = &mut sizes {
        // Read sizes only where they are what FTS5 itself would say.
        // SAFETY: as this function's contract.
        let expected = i64::from(unsafe { column_size(api, fts) }?);
        if blocks.tokens(rowid).ok().flatten().map(i64::from) != Some(expected) {
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
