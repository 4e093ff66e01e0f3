//! The background tasks a store runs (its batch writer, checkpointer, index merge, listeners),
//! owned by the store: every one is in one `JoinSet`, aborted when the last handle of the
//! store is dropped and stopped and awaited by the store's `close`, so none outlives it.

use std::future::Future;
use std::sync::Mutex;
use tokio::task::JoinSet;

/// A store's background tasks.
#[derive(Debug, Default)]
pub struct OwnedTasks {
    set: Mutex<JoinSet<()>>,
}

impl OwnedTasks {
    /// Runs `task` in the background until it ends or the tasks are shut down.
    pub fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let mut set = self.set.lock().expect("task set mutex poisoned");
        // Tasks that ended are reaped here, so the set holds only live ones.
        while set.try_join_next().is_some() {}
        set.spawn(task);
    }

    /// Stops every task and waits until each has ended.
    pub async fn shutdown(&self) {
        let mut set = std::mem::take(&mut *self.set.lock().expect("task set mutex poisoned"));
        set.shutdown().await;
    }

    /// How many tasks are running.
    pub fn len(&self) -> usize {
        let mut set = self.set.lock().expect("task set mutex poisoned");
        while set.try_join_next().is_some() {}
        set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn shutdown_ends_every_task_and_waits_for_it() {
        let tasks = OwnedTasks::default();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
        tasks.spawn(async move {
            let _held = tx;
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        tasks.spawn(async {});
        tasks.shutdown().await;
        assert!(tasks.is_empty());
        // The sender the long task held is gone: the task was dropped, not left running.
        assert!(rx.recv().await.is_none());
    }
}
