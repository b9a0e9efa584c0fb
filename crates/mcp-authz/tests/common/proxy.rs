//! A TCP proxy on loopback that a test can cut and restore: the network between `serve` and its
//! PostgreSQL database, failing the ways a real one does.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// How the proxy treats connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Bytes flow both ways.
    Up,
    /// Open connections are reset and new ones closed at once (the database process is gone).
    Down,
    /// Open connections stay open but carry nothing, and new ones are accepted and never answered
    /// (the database host dropped off the network: packets vanish).
    Blackhole,
}

/// A running proxy to `upstream`; stopped when dropped.
pub struct CutProxy {
    /// The address to connect to instead of the upstream.
    pub addr: SocketAddr,
    link: watch::Sender<Link>,
    accept: tokio::task::JoinHandle<()>,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl CutProxy {
    /// Starts a proxy on `127.0.0.1:0` to `upstream`, link up.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (link, _) = watch::channel(Link::Up);
        let held = Arc::new(Mutex::new(Vec::new()));
        let accept = tokio::spawn(accept_loop(listener, upstream, link.clone(), held.clone()));
        Self {
            addr,
            link,
            accept,
            held,
        }
    }

    /// Changes the link; open connections follow at once.
    pub fn set(&self, link: Link) {
        if link == Link::Up {
            // Connections accepted while blackholed are closed now, like a peer that comes back
            // without their state.
            self.held.lock().unwrap().clear();
        }
        self.link.send_replace(link);
    }
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.link.send_replace(Link::Down);
    }
}

async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    link: watch::Sender<Link>,
    held: Arc<Mutex<Vec<TcpStream>>>,
) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            return;
        };
        let current = *link.borrow();
        match current {
            Link::Down => drop(client),
            Link::Blackhole => held.lock().unwrap().push(client),
            Link::Up => {
                tokio::spawn(forward(client, upstream, link.subscribe()));
            }
        }
    }
}

/// Copies bytes both ways while the link is up; resets on `Down`, stalls on `Blackhole`.
async fn forward(client: TcpStream, upstream: SocketAddr, mut link: watch::Receiver<Link>) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let copy = async {
        tokio::select! {
            _ = tokio::io::copy(&mut client_read, &mut server_write) => {}
            _ = tokio::io::copy(&mut server_read, &mut client_write) => {}
        }
    };
    tokio::select! {
        () = copy => {}
        state = async {
            loop {
                if link.changed().await.is_err() {
                    return Link::Down;
                }
                let now = *link.borrow_and_update();
                if now != Link::Up {
                    return now;
                }
            }
        } => {
            if state == Link::Blackhole {
                // Hold both halves without reading or writing until the link comes back up or
                // goes down: the peer's bytes go nowhere, nothing comes back.
                while link.changed().await.is_ok() {
                    if *link.borrow_and_update() != Link::Blackhole {
                        break;
                    }
                }
            }
            // Dropping the halves closes both connections.
        }
    }
}
