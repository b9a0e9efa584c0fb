//! A round-robin TCP load balancer on loopback without stickiness: each new connection goes to the
//! next backend, skipping one that refuses (an instance restarting), and the balancer counts the
//! connections each backend took.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};

/// A running balancer; stopped when dropped.
pub struct RoundRobin {
    /// Where clients connect.
    pub addr: SocketAddr,
    backends: Arc<Mutex<Vec<Option<SocketAddr>>>>,
    served: Arc<Vec<AtomicUsize>>,
    accept: tokio::task::JoinHandle<()>,
}

impl RoundRobin {
    /// A balancer on `listener` (bound by the caller, so its address can be every backend's
    /// issuer before they start) over `count` backends set later with [`set`](Self::set).
    pub fn start(listener: std::net::TcpListener, count: usize) -> Self {
        listener.set_nonblocking(true).unwrap();
        let listener = TcpListener::from_std(listener).unwrap();
        let addr = listener.local_addr().unwrap();
        let backends = Arc::new(Mutex::new(Vec::new()));
        let served: Arc<Vec<AtomicUsize>> =
            Arc::new((0..count).map(|_| AtomicUsize::new(0)).collect());
        let accept = tokio::spawn(accept_loop(listener, backends.clone(), served.clone()));
        Self {
            addr,
            backends,
            served,
            accept,
        }
    }

    /// Sets backend `index`'s address (a restarted instance may come back on another port).
    pub fn set(&self, index: usize, addr: SocketAddr) {
        let mut backends = self.backends.lock().unwrap();
        if backends.len() <= index {
            backends.resize(index + 1, None);
        }
        backends[index] = Some(addr);
    }

    /// Takes backend `index` out of rotation (drained before it is stopped, as a load balancer's
    /// health check would).
    pub fn drain(&self, index: usize) {
        if let Some(backend) = self.backends.lock().unwrap().get_mut(index) {
            *backend = None;
        }
    }

    /// Connections each backend took so far.
    pub fn served(&self) -> Vec<usize> {
        self.served
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .collect()
    }
}

impl Drop for RoundRobin {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    backends: Arc<Mutex<Vec<Option<SocketAddr>>>>,
    served: Arc<Vec<AtomicUsize>>,
) {
    let next = Arc::new(AtomicUsize::new(0));
    loop {
        let Ok((mut client, _)) = listener.accept().await else {
            return;
        };
        let backends = backends.clone();
        let served = served.clone();
        let next = next.clone();
        tokio::spawn(async move {
            let candidates = backends.lock().unwrap().clone();
            let start = next.fetch_add(1, Ordering::Relaxed);
            for offset in 0..candidates.len() {
                let index = (start + offset) % candidates.len();
                let Some(backend) = candidates[index] else {
                    continue;
                };
                if let Ok(mut server) = TcpStream::connect(backend).await {
                    served[index].fetch_add(1, Ordering::Relaxed);
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    return;
                }
            }
        });
    }
}
