//! A bound on concurrent Argon2 work (password checks and hashes), and the memory it reuses.
//!
//! An Argon2id check with this server's parameters costs 19 MiB and tens of milliseconds of CPU. Run
//! unbounded on tokio's blocking pool (up to 512 threads, each keeping its freed 19 MiB in its own
//! allocator arena), N concurrent failed logins cost the server N × 19 MiB. Here at most
//! `max_concurrent` checks run at once, each on one of at most `max_concurrent` preallocated memory
//! buffers that are reused, never freed; up to `max_waiting` more wait at most `max_wait` for a turn,
//! and the rest are refused with [`HashError::Busy`] (the endpoints answer 503 with `Retry-After`,
//! never "wrong password").

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use mcp_authz_store::SecretHashString;
use subtle::ConstantTimeEq;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::secrets::{HashError, argon2, verify_secret};

/// How many Argon2 checks may run and wait (set with
/// [`ServerConfigBuilder::max_concurrent_password_checks`](crate::ServerConfigBuilder::max_concurrent_password_checks)
/// and [`password_check_queue`](crate::ServerConfigBuilder::password_check_queue)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PasswordCheckLimits {
    /// Checks running at once (at least 1).
    pub(crate) max_concurrent: usize,
    /// Checks waiting for a turn; more are refused at once.
    pub(crate) max_waiting: usize,
    /// How long a check waits for a turn before it is refused.
    pub(crate) max_wait: Duration,
}

impl Default for PasswordCheckLimits {
    /// The number of CPUs (at least 2) at once, 64 waiting for at most 3 seconds.
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self {
            max_concurrent: cpus.max(2),
            max_waiting: 64,
            max_wait: Duration::from_secs(3),
        }
    }
}

/// The gate every Argon2 check and hash of a server passes through.
#[derive(Debug)]
pub(crate) struct PasswordChecks {
    limits: PasswordCheckLimits,
    permits: Arc<Semaphore>,
    /// Memory for idle permits: at most `max_concurrent` buffers ever exist.
    buffers: Mutex<Vec<Vec<Block>>>,
    waiting: AtomicUsize,
    running: AtomicUsize,
    peak: AtomicUsize,
}

/// How long a refused client should wait before trying again.
pub(crate) const BUSY_RETRY_AFTER: Duration = Duration::from_secs(2);

impl PasswordChecks {
    /// A gate with `limits`.
    pub(crate) fn new(limits: PasswordCheckLimits) -> Arc<Self> {
        let limits = PasswordCheckLimits {
            max_concurrent: limits.max_concurrent.max(1),
            ..limits
        };
        Arc::new(Self {
            permits: Arc::new(Semaphore::new(limits.max_concurrent)),
            buffers: Mutex::new(Vec::new()),
            waiting: AtomicUsize::new(0),
            running: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
            limits,
        })
    }

    /// The most checks that ran at once since the gate was made.
    pub(crate) fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// A turn: at once, else after waiting in the bounded queue, else [`HashError::Busy`].
    async fn turn(self: &Arc<Self>) -> Result<Turn, HashError> {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.limits.max_waiting {
                    self.waiting.fetch_sub(1, Ordering::AcqRel);
                    return Err(HashError::Busy);
                }
                let _waiter = Waiter(&self.waiting);
                let acquire = self.permits.clone().acquire_owned();
                match tokio::time::timeout(self.limits.max_wait, acquire).await {
                    Ok(Ok(permit)) => permit,
                    _ => return Err(HashError::Busy),
                }
            }
        };
        Ok(self.turn_with(permit))
    }

    /// The turn of `permit`, with an idle buffer (or an empty one, sized on first use).
    fn turn_with(self: &Arc<Self>, permit: OwnedSemaphorePermit) -> Turn {
        let memory = self
            .buffers
            .lock()
            .map(|mut buffers| buffers.pop())
            .unwrap_or_default()
            .unwrap_or_default();
        Turn {
            gate: self.clone(),
            memory,
            _permit: permit,
        }
    }

    /// Checks `secret` against `stored` within the bound: a `$sha256$` digest inline, an Argon2 PHC
    /// string on the blocking pool with this gate's reused memory. `Err(Busy)` when the server has no
    /// turn for it; other errors are internal failures, never a wrong secret.
    pub(crate) async fn verify(
        self: &Arc<Self>,
        secret: &str,
        stored: &SecretHashString,
    ) -> Result<bool, HashError> {
        if stored.secret().starts_with("$sha256$") {
            return Ok(verify_secret(secret, stored));
        }
        let mut turn = self.turn().await?;
        let secret = secret.to_owned();
        let stored = stored.clone();
        tokio::task::spawn_blocking(move || turn.run(|memory| verify_phc(&secret, &stored, memory)))
            .await
            .map_err(|_| HashError::Hasher)
    }

    /// Hashes a password with Argon2id within the bound, waiting for a turn as long as it takes (an
    /// operator creating an account is not refused).
    pub(crate) async fn hash(
        self: &Arc<Self>,
        password: &str,
    ) -> Result<SecretHashString, HashError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| HashError::Hasher)?;
        let mut turn = self.turn_with(permit);
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || turn.run(|memory| hash_phc(&password, memory)))
            .await
            .map_err(|_| HashError::Hasher)?
    }
}

/// Counts a waiter while it waits, even when its request is dropped.
struct Waiter<'a>(&'a AtomicUsize);

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One running check: its permit and memory, both given back on drop.
struct Turn {
    gate: Arc<PasswordChecks>,
    memory: Vec<Block>,
    _permit: OwnedSemaphorePermit,
}

impl Turn {
    fn run<T>(&mut self, work: impl FnOnce(&mut Vec<Block>) -> T) -> T {
        let now = self.gate.running.fetch_add(1, Ordering::AcqRel) + 1;
        self.gate.peak.fetch_max(now, Ordering::AcqRel);
        let result = work(&mut self.memory);
        self.gate.running.fetch_sub(1, Ordering::AcqRel);
        result
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        let memory = std::mem::take(&mut self.memory);
        if memory.is_empty() {
            return;
        }
        if let Ok(mut buffers) = self.gate.buffers.lock() {
            buffers.push(memory);
        }
    }
}

/// At least `blocks` blocks of `memory`: grown once to this server's parameters and then reused. A
/// stored hash with a larger memory cost (set by an operator) gets a one-off buffer instead, so the
/// kept buffers stay at this server's size.
fn with_blocks<T>(
    memory: &mut Vec<Block>,
    blocks: usize,
    work: impl FnOnce(&mut [Block]) -> T,
) -> T {
    let own = own_blocks();
    if blocks <= own {
        if memory.len() < own {
            memory.resize(own, Block::default());
        }
        work(memory)
    } else {
        work(&mut vec![Block::default(); blocks])
    }
}

fn own_blocks() -> usize {
    argon2().params().block_count()
}

/// What `Argon2::verify_password` does, with `memory`: the PHC string's own algorithm, version,
/// parameters and salt, the output compared in constant time.
fn verify_phc(secret: &str, stored: &SecretHashString, memory: &mut Vec<Block>) -> bool {
    let Ok(hash) = PasswordHash::new(stored.secret()) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (hash.salt, hash.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm) else {
        return false;
    };
    let version = match hash.version.map(Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&hash) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let blocks = params.block_count();
    let hasher = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    let computed = with_blocks(memory, blocks, |memory| {
        hasher.hash_password_into_with_memory(secret.as_bytes(), salt, &mut out, memory)
    });
    computed.is_ok() && bool::from(out.as_slice().ct_eq(expected.as_bytes()))
}

/// [`hash_password`](crate::hash_password) with `memory`.
fn hash_phc(password: &str, memory: &mut Vec<Block>) -> Result<SecretHashString, HashError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| HashError::RandomnessUnavailable)?;
    let hasher = argon2();
    let mut out = [0u8; 32];
    with_blocks(memory, own_blocks(), |memory| {
        hasher.hash_password_into_with_memory(password.as_bytes(), &salt, &mut out, memory)
    })
    .map_err(|_| HashError::Hasher)?;
    let salt = SaltString::encode_b64(&salt).map_err(|_| HashError::Hasher)?;
    let output = argon2::password_hash::Output::new(&out).map_err(|_| HashError::Hasher)?;
    let params = hasher.params();
    let phc = format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        salt.as_str(),
        output
    );
    SecretHashString::parse(&phc).map_err(|_| HashError::Hasher)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::hash_password;

    fn gate(max_concurrent: usize, max_waiting: usize) -> Arc<PasswordChecks> {
        PasswordChecks::new(PasswordCheckLimits {
            max_concurrent,
            max_waiting,
            max_wait: Duration::from_secs(30),
        })
    }

    #[tokio::test]
    async fn verifies_hashes_of_hash_password_and_other_parameters() {
        let checks = gate(2, 8);
        let ours = hash_password("correct horse").unwrap();
        assert_eq!(checks.verify("correct horse", &ours).await, Ok(true));
        assert_eq!(checks.verify("correct hors", &ours).await, Ok(false));
        // Different parameters, Argon2i and Argon2d, an older version, a longer output: all from
        // the argon2 crate's own PasswordHasher, which the server used before.
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::encode_b64(b"sixteen byte salt").unwrap();
        for (algorithm, version, params) in [
            (
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(8, 1, 1, None),
            ),
            (
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(32_768, 3, 2, Some(48)),
            ),
            (
                Algorithm::Argon2i,
                Version::V0x13,
                Params::new(1024, 2, 1, None),
            ),
            (
                Algorithm::Argon2d,
                Version::V0x10,
                Params::new(64, 4, 4, None),
            ),
        ] {
            let hasher = Argon2::new(algorithm, version, params.unwrap());
            let phc = hasher.hash_password(b"pw", &salt).unwrap().to_string();
            let stored = SecretHashString::parse(&phc).unwrap();
            assert_eq!(checks.verify("pw", &stored).await, Ok(true), "{phc}");
            assert_eq!(checks.verify("pW", &stored).await, Ok(false), "{phc}");
            assert!(verify_secret("pw", &stored), "{phc}");
        }
        let sha = crate::hash_client_secret("s").unwrap();
        assert_eq!(checks.verify("s", &sha).await, Ok(true));
        let bogus = SecretHashString::parse("$argon2id$v=19$m=8,t=1,p=1$x$y").unwrap();
        assert_eq!(checks.verify("s", &bogus).await, Ok(false));
    }

    #[tokio::test]
    async fn gate_hashes_verify_everywhere() {
        let checks = gate(1, 1);
        let hash = checks.hash("pw").await.unwrap();
        assert!(hash.secret().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_secret("pw", &hash));
        assert!(!verify_secret("pw2", &hash));
        assert_eq!(checks.verify("pw", &hash).await, Ok(true));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bounds_running_and_waiting_checks() {
        let checks = gate(2, 3);
        let stored = hash_password("pw").unwrap();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let checks = checks.clone();
                let stored = stored.clone();
                tokio::spawn(async move { checks.verify("no", &stored).await })
            })
            .collect();
        let mut busy = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(false) => {}
                Err(HashError::Busy) => busy += 1,
                other => panic!("{other:?}"),
            }
        }
        assert!(checks.peak() <= 2, "{}", checks.peak());
        assert!(busy >= 1, "{busy}");
        assert!(checks.buffers.lock().unwrap().len() <= 2);
        assert_eq!(checks.verify("pw", &stored).await, Ok(true));
    }
}
