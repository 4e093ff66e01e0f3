//! A loopback address where connecting never completes, for testing connect timeouts.
//!
//! A listener that never accepts, with its accept queue already full: the kernel then drops new
//! connection attempts (SYNs) instead of refusing them, so a client waits until its connect
//! timeout. Nothing leaves the machine.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket, TcpStream};

/// See the module docs. Holds its listener and queue-filling connections until dropped.
pub struct Blackhole {
    addr: SocketAddr,
    _listener: TcpListener,
    _queued: Vec<TcpStream>,
}

impl Blackhole {
    /// Opens the listener and fills its accept queue. Panics if the kernel keeps accepting
    /// connections (then this machine cannot simulate an unanswered connect).
    pub async fn start() -> Blackhole {
        let socket = TcpSocket::new_v4().expect("a TCP socket");
        socket
            .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .expect("bind a loopback port");
        let listener = socket.listen(0).expect("listen");
        let addr = listener.local_addr().expect("bound address");
        let mut queued = Vec::new();
        for _ in 0..64 {
            match tokio::time::timeout(Duration::from_millis(200), TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => queued.push(stream),
                Ok(Err(err)) => panic!("filling the accept queue failed: {err}"),
                // An attempt that does not complete: the queue is full.
                Err(_) => {
                    return Blackhole {
                        addr,
                        _listener: listener,
                        _queued: queued,
                    };
                }
            }
        }
        panic!("the kernel accepted 64 connections without an accept(): cannot black-hole");
    }

    /// `http://127.0.0.1:<port>/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}
