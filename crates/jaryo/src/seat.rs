//! A worker's seat in its data directory: a name for its draft leases that the same data
//! directory gives again after a restart, and a lock that tells the living from the dead.
//!
//! A lease exists so that work held by a process that died is taken up again; waiting out
//! the whole lease (minutes, so a slow local model is not cut off) is the price when nobody
//! can tell that its holder is gone. A restarted `jaryo serve` can tell: its own data
//! directory holds the predecessor's seat. Each process takes a seat — a file under
//! `<data-dir>/workers/` locked (`flock`) for as long as it lives — and names its leases
//! `<instance>/<seat>@<host>:<pid>`, `<instance>` being the data directory's own random id.
//! The kernel drops a lock when its process dies, however it dies (`kill -9` included), so a
//! seat that can be locked belongs to no living process, and every lease named after it was
//! left behind by a dead one. Those go back to the queue at start, without counting the
//! attempt. A seat still locked belongs to a living process (a `jaryo worker` beside `jaryo
//! serve` on one data directory): its leases stay its own.

use anyhow::Context;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::Path;

/// The seat this process holds; dropping it (at exit, or with the process) frees it.
#[derive(Debug)]
pub struct WorkerSeat {
    /// What the worker writes as its leases' owner.
    pub owner: String,
    /// The lease owner prefixes of seats found free at start: dead processes' (this one's
    /// own seat included), whose leases can be handed back at once.
    pub dead: Vec<String>,
    _lock: File,
    /// The other free seats stay locked until [`WorkerSeat::leave_the_dead`], so that no
    /// process starting meanwhile takes one and has its fresh leases handed back.
    others: Vec<File>,
}

impl WorkerSeat {
    /// Takes the lowest free seat in `data_dir`, noting every free seat on the way.
    pub fn take(data_dir: &Path) -> anyhow::Result<Self> {
        let instance = instance_id(data_dir)?;
        let seats = data_dir.join("workers");
        crate::app::create_private_dir(&seats)?;
        let existing = std::fs::read_dir(&seats)
            .with_context(|| format!("cannot read {}", seats.display()))?
            .count();
        let mut ours = None;
        let mut dead = Vec::new();
        let mut others = Vec::new();
        // One more seat than there are files, so a free one is always found.
        for seat in 0..=existing {
            let path = seats.join(format!("{seat}.lock"));
            let file = private_options()
                .read(true)
                .write(true)
                .truncate(false)
                .create(true)
                .open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            match file.try_lock() {
                Ok(()) => {
                    dead.push(format!("{instance}/{seat}"));
                    if ours.is_none() {
                        ours = Some((seat, file));
                    } else {
                        others.push(file);
                    }
                }
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(error)) => {
                    return Err(error).with_context(|| format!("cannot lock {}", path.display()));
                }
            }
        }
        let (seat, lock) = ours.context("no free worker seat")?;
        Ok(Self {
            owner: format!(
                "{instance}/{seat}@{}:{}",
                jaryo_worker::hostname(),
                std::process::id()
            ),
            dead,
            _lock: lock,
            others,
        })
    }

    /// Frees the dead seats other than this process's own, once their leases are handed back.
    pub fn leave_the_dead(&mut self) {
        self.others.clear();
    }
}

/// Whether a jaryo process (`serve` or `worker`) holds a seat in `data_dir` now.
pub fn any_alive(data_dir: &Path) -> anyhow::Result<bool> {
    let Ok(entries) = std::fs::read_dir(data_dir.join("workers")) else {
        return Ok(false);
    };
    for entry in entries {
        let path = entry?.path();
        let file = File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(true),
            Err(TryLockError::Error(error)) => {
                return Err(error).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
    }
    Ok(false)
}

/// The data directory's own random id, made the first time it is asked for.
fn instance_id(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("instance-id");
    match private_options().write(true).create_new(true).open(&path) {
        Ok(mut file) => {
            let id = format!("{:016x}", rand::random::<u64>());
            file.write_all(id.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("cannot write {}", path.display()))?;
            Ok(id)
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            // Another process may be writing it this very moment: an empty read is retried.
            for _ in 0..100 {
                let id = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read {}", path.display()))?;
                if id.len() == 16 {
                    return Ok(id);
                }
                std::thread::yield_now();
            }
            anyhow::bail!("{} does not hold a data directory id", path.display())
        }
        Err(error) => Err(error).with_context(|| format!("cannot create {}", path.display())),
    }
}

fn private_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_living_seat_is_never_counted_dead_and_a_freed_one_is() {
        let dir = tempfile::tempdir().unwrap();
        let first = WorkerSeat::take(dir.path()).unwrap();
        let instance = first.owner.split('/').next().unwrap().to_owned();
        assert_eq!(first.dead, [format!("{instance}/0")]);
        assert!(first.owner.starts_with(&format!("{instance}/0@")));

        let second = WorkerSeat::take(dir.path()).unwrap();
        assert!(second.owner.starts_with(&format!("{instance}/1@")));
        assert_eq!(second.dead, [format!("{instance}/1")], "seat 0 is alive");

        drop(first);
        let mut third = WorkerSeat::take(dir.path()).unwrap();
        assert!(third.owner.starts_with(&format!("{instance}/0@")));
        assert_eq!(
            third.dead,
            [format!("{instance}/0"), format!("{instance}/2")]
        );
        // Seat 2 stays held until its leases have been looked at.
        let fourth = WorkerSeat::take(dir.path()).unwrap();
        assert!(fourth.owner.starts_with(&format!("{instance}/3@")));
        third.leave_the_dead();
        drop(fourth);
        let fifth = WorkerSeat::take(dir.path()).unwrap();
        assert!(fifth.owner.starts_with(&format!("{instance}/2@")));
        assert!(any_alive(dir.path()).unwrap());
        drop((second, third, fifth));
        assert!(!any_alive(dir.path()).unwrap(), "every seat is free again");
    }
}
