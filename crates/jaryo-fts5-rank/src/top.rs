//! `jaryo_top(k, after_rank, after_rowid, rowid, rank, grp)`: an aggregate that keeps the `k`
//! best-ranked rows (lowest rank first, then lowest row id) among those after a cursor, and
//! counts the rows of each group, all in one pass over its input.
//!
//! It replaces, for a page of search hits, materialising every ranked row and sorting them
//! (`ORDER BY rank, rowid LIMIT k`), which wrote each row to a temporary B-tree twice — as
//! much time as ranking the row.
//!
//! ```sql
//! SELECT jaryo_top(20, NULL, NULL, rowid, rank, 0) FROM ranked_rows
//! ```
//!
//! - `k`: rows kept, an integer ≥ 0 (the first row's value counts).
//! - `after_rank`, `after_rowid`: the cursor, or NULL for none. A row is after it when its rank
//!   is greater, or equal with a greater row id (as `rank > ?1 OR (rank = ?1 AND rowid > ?2)`).
//! - `rowid` (integer) and `rank` (a number) of each row.
//! - `grp`: the row's group, an integer from 0 to 63 (e.g. which of several ranking windows it
//!   comes from). Every row counts in its group, after the cursor or not.
//!
//! The result is JSON text: `{"top":[[rowid,rank_bits],…],"groups":[[rows,max_rowid],…]}`
//! — `top` in rank order, each rank as the IEEE 754 bits of the `f64` read as `i64`
//! (SQLite's JSON prints reals with 15 digits; a cursor must compare equal to the rank it came
//! from), and per group from 0 to the highest seen its rows and greatest row id (null for
//! none): where a group's rows end when they come in row-id order.

use libsqlite3_sys as ffi;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::ffi::c_int;
use std::fmt::Write;
use std::ptr;

/// The SQL name of the aggregate.
pub const TOP_FUNCTION: &str = "jaryo_top";

/// Groups a `jaryo_top` call can count: enough for any number of windows a query would want,
/// small enough that a stray value cannot make it allocate much.
pub const MAX_GROUPS: usize = 64;

/// Rows kept before the heap grows on demand: a page of hits is far smaller.
const INITIAL_CAPACITY: usize = 64;

/// Registers `jaryo_top` on `db`.
///
/// # Safety
/// `db` must be an open connection that nothing else uses during the call.
pub(crate) unsafe fn register_top(db: *mut ffi::sqlite3) -> c_int {
    // SAFETY: as this function's contract; the name is NUL-terminated; the aggregate takes
    // six arguments, needs no user data and has nothing to destroy.
    unsafe {
        ffi::sqlite3_create_function_v2(
            db,
            c"jaryo_top".as_ptr(),
            6,
            ffi::SQLITE_UTF8 | ffi::SQLITE_DETERMINISTIC | ffi::SQLITE_INNOCUOUS,
            ptr::null_mut(),
            None,
            Some(top_step),
            Some(top_final),
            None,
        )
    }
}

/// A kept row, ordered by rank (`f64::total_cmp`), then row id.
#[derive(Debug, Clone, Copy)]
struct Entry {
    rank: f64,
    rowid: i64,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank
            .total_cmp(&other.rank)
            .then(self.rowid.cmp(&other.rowid))
    }
}

/// Rows seen in a group and the greatest row id among them.
#[derive(Debug, Clone, Copy, Default)]
struct Group {
    rows: i64,
    greatest: Option<i64>,
}

/// One aggregation's state, boxed behind the aggregate context's pointer.
#[derive(Debug)]
struct Top {
    k: usize,
    /// The cursor: rank and row id the kept rows must come after.
    after: Option<(f64, i64)>,
    /// The best rows so far; the worst of them on top, to be replaced by a better one.
    kept: BinaryHeap<Entry>,
    groups: Vec<Group>,
}

impl Top {
    fn add(&mut self, entry: Entry, group: usize) {
        if self.groups.len() <= group {
            self.groups.resize(group + 1, Group::default());
        }
        let counted = &mut self.groups[group];
        counted.rows += 1;
        counted.greatest = Some(
            counted
                .greatest
                .map_or(entry.rowid, |greatest| greatest.max(entry.rowid)),
        );
        let after_cursor = self.after.is_none_or(|(rank, rowid)| {
            entry.rank > rank || (entry.rank == rank && entry.rowid > rowid)
        });
        if !after_cursor || self.k == 0 {
            return;
        }
        if self.kept.len() < self.k {
            self.kept.push(entry);
        } else if let Some(mut worst) = self.kept.peek_mut()
            && entry < *worst
        {
            *worst = entry;
        }
    }

    fn to_json(&self) -> String {
        let mut out = String::from("{\"top\":[");
        for (index, entry) in self.kept.clone().into_sorted_vec().iter().enumerate() {
            let comma = if index > 0 { "," } else { "" };
            // Writing to a `String` cannot fail.
            let _ = write!(
                out,
                "{comma}[{},{}]",
                entry.rowid,
                entry.rank.to_bits() as i64
            );
        }
        out.push_str("],\"groups\":[");
        for (index, group) in self.groups.iter().enumerate() {
            let comma = if index > 0 { "," } else { "" };
            let _ = match group.greatest {
                Some(greatest) => write!(out, "{comma}[{},{greatest}]", group.rows),
                None => write!(out, "{comma}[{},null]", group.rows),
            };
        }
        out.push_str("]}");
        out
    }
}

/// The result of an aggregation over no rows.
const EMPTY: &str = "{\"top\":[],\"groups\":[]}";

unsafe extern "C" fn top_step(
    ctx: *mut ffi::sqlite3_context,
    n_val: c_int,
    ap_val: *mut *mut ffi::sqlite3_value,
) {
    // SAFETY: SQLite passes the live context of this aggregation and `n_val` live values.
    if let Err(message) = unsafe { step(ctx, n_val, ap_val) } {
        // SAFETY: `ctx` is live; the message is NUL-terminated and static.
        unsafe { ffi::sqlite3_result_error(ctx, message.as_ptr(), -1) };
    }
}

/// # Safety
/// As for an aggregate's step: `ctx` is the aggregation's live context, with `n_val` live
/// argument values at `ap_val`.
unsafe fn step(
    ctx: *mut ffi::sqlite3_context,
    n_val: c_int,
    ap_val: *mut *mut ffi::sqlite3_value,
) -> Result<(), &'static std::ffi::CStr> {
    if n_val != 6 || ap_val.is_null() {
        return Err(c"jaryo_top takes k, after_rank, after_rowid, rowid, rank and grp");
    }
    // SAFETY: SQLite passes six (checked) live values at `ap_val`.
    let args = unsafe { std::slice::from_raw_parts(ap_val, 6) };
    // SAFETY: each value is a live argument of this call.
    let (rowid, rank, group) = unsafe { (integer(args[3]), number(args[4]), integer(args[5])) };
    let Some(rowid) = rowid else {
        return Err(c"jaryo_top: rowid must be an integer");
    };
    let Some(rank) = rank.filter(|rank| !rank.is_nan()) else {
        return Err(c"jaryo_top: rank must be a number");
    };
    let Some(group) = group
        .and_then(|group| usize::try_from(group).ok())
        .filter(|&group| group < MAX_GROUPS)
    else {
        return Err(c"jaryo_top: grp must be an integer from 0 to 63");
    };
    // SAFETY: `ctx` is the aggregation's context; SQLite zeroes the pointer-sized slot it
    // returns on the first call and hands the same slot back on every later one.
    let slot = unsafe {
        ffi::sqlite3_aggregate_context(ctx, std::mem::size_of::<*mut Top>() as c_int)
            .cast::<*mut Top>()
    };
    if slot.is_null() {
        return Err(c"jaryo_top: out of memory");
    }
    // SAFETY: `slot` is valid and holds null or the `Top` this aggregation boxed below.
    if unsafe { (*slot).is_null() } {
        // SAFETY: each value is a live argument of this call.
        let (k, after_rank, after_rowid) =
            unsafe { (integer(args[0]), number(args[1]), integer(args[2])) };
        let Some(k) = k.and_then(|k| usize::try_from(k).ok()) else {
            return Err(c"jaryo_top: k must be an integer of at least 0");
        };
        let top = Top {
            k,
            after: after_rank.map(|rank| (rank, after_rowid.unwrap_or(i64::MIN))),
            kept: BinaryHeap::with_capacity(k.min(INITIAL_CAPACITY)),
            groups: Vec::new(),
        };
        // SAFETY: as above; `top_final` takes the box back.
        unsafe { *slot = Box::into_raw(Box::new(top)) };
    }
    // SAFETY: the slot holds this aggregation's live `Top`, used by one call at a time.
    let top = unsafe { &mut **slot };
    top.add(Entry { rank, rowid }, group);
    Ok(())
}

unsafe extern "C" fn top_final(ctx: *mut ffi::sqlite3_context) {
    // SAFETY: `ctx` is the aggregation's context; with size 0 SQLite allocates nothing and
    // returns the slot `step` used, or null if no row was stepped.
    let slot = unsafe { ffi::sqlite3_aggregate_context(ctx, 0).cast::<*mut Top>() };
    // SAFETY: a non-null slot holds null or the `Top` boxed by `step`, taken back once here
    // (SQLite finalizes an aggregation once, also when its statement stops early).
    let top = unsafe {
        if slot.is_null() || (*slot).is_null() {
            None
        } else {
            let top = Box::from_raw(*slot);
            *slot = ptr::null_mut();
            Some(top)
        }
    };
    let json = top.map_or_else(|| EMPTY.to_owned(), |top| top.to_json());
    // SAFETY: `ctx` is live; SQLite copies the bytes (`SQLITE_TRANSIENT`) before `json` drops.
    unsafe {
        ffi::sqlite3_result_text64(
            ctx,
            json.as_ptr().cast(),
            json.len() as u64,
            ffi::SQLITE_TRANSIENT(),
            ffi::SQLITE_UTF8 as u8,
        );
    }
}

/// The value as an integer, if it is one.
///
/// # Safety
/// `value` must be a live argument value of the current call.
unsafe fn integer(value: *mut ffi::sqlite3_value) -> Option<i64> {
    // SAFETY: as this function's contract.
    unsafe {
        (ffi::sqlite3_value_type(value) == ffi::SQLITE_INTEGER)
            .then(|| ffi::sqlite3_value_int64(value))
    }
}

/// The value as a number, if it is an integer or a real.
///
/// # Safety
/// `value` must be a live argument value of the current call.
unsafe fn number(value: *mut ffi::sqlite3_value) -> Option<f64> {
    // SAFETY: as this function's contract.
    unsafe {
        matches!(
            ffi::sqlite3_value_type(value),
            ffi::SQLITE_INTEGER | ffi::SQLITE_FLOAT
        )
        .then(|| ffi::sqlite3_value_double(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn top(k: usize, after: Option<(f64, i64)>) -> Top {
        Top {
            k,
            after,
            kept: BinaryHeap::new(),
            groups: Vec::new(),
        }
    }

    #[test]
    fn keeps_the_k_lowest_ranks_in_order_with_row_id_breaking_ties() {
        let mut t = top(3, None);
        for (rank, rowid) in [(-1.0, 5), (-3.0, 2), (-2.0, 9), (-3.0, 1), (-0.5, 4)] {
            t.add(Entry { rank, rowid }, 0);
        }
        let expected = format!(
            "{{\"top\":[[1,{}],[2,{}],[9,{}]],\"groups\":[[5,9]]}}",
            (-3.0f64).to_bits() as i64,
            (-3.0f64).to_bits() as i64,
            (-2.0f64).to_bits() as i64
        );
        assert_eq!(t.to_json(), expected);
    }

    #[test]
    fn the_cursor_drops_rows_up_to_it_but_every_row_counts_in_its_group() {
        let mut t = top(10, Some((-2.0, 7)));
        for (rank, rowid, group) in [(-3.0, 1, 0), (-2.0, 7, 0), (-2.0, 8, 1), (-1.0, 3, 2)] {
            t.add(Entry { rank, rowid }, group);
        }
        let kept: Vec<i64> = t
            .kept
            .clone()
            .into_sorted_vec()
            .iter()
            .map(|e| e.rowid)
            .collect();
        assert_eq!(kept, [8, 3]);
        assert!(t.to_json().ends_with("\"groups\":[[2,7],[1,8],[1,3]]}"));
    }

    #[test]
    fn k_zero_keeps_nothing_and_still_counts() {
        let mut t = top(0, None);
        t.add(
            Entry {
                rank: -1.0,
                rowid: 4,
            },
            1,
        );
        assert_eq!(t.to_json(), "{\"top\":[],\"groups\":[[0,null],[1,4]]}");
    }
}
