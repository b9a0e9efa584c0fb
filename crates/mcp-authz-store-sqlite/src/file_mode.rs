//! The database file and its `-wal` and `-shm` companions are created readable by the owner only
//! (mode 0600), whatever the process umask: they hold the server's private signing keys.
//!
//! SQLite would create the file itself with mode 0644 minus the umask (0644 under the usual 022),
//! readable by every local user. So the file is created here first, with mode 0600, before SQLite
//! opens it. SQLite creates the write-ahead log and the shared-memory index with the mode of the
//! database file; they are set to 0600 again after opening in case stale ones were left behind.
//! Existing files keep their mode (the operator chose it); `mcp-authz serve` refuses shared ones.

use std::path::{Path, PathBuf};

use crate::error::OpenError;

/// The mode of the files this store creates: read and write for the owner only.
#[cfg(unix)]
const PRIVATE_FILE_MODE: u32 = 0o600;

/// Whether [`create_private`] made a new file (so its companions should be made private too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Created {
    /// The file was created here, mode 0600.
    New,
    /// The file existed (or creating is disabled): left as it is.
    Existing,
}

/// Creates `path` with mode 0600 if it does not exist and `create` is set.
pub(crate) fn create_private(path: &Path, create: bool) -> Result<Created, OpenError> {
    if !create || path.exists() {
        return Ok(Created::Existing);
    }
    let unavailable = |e: std::io::Error| OpenError::Unavailable {
        description: format!("cannot create {}: {e}", path.display()),
    };
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, PRIVATE_FILE_MODE);
    match open.open(path) {
        Ok(_) => {}
        // Another process created it in between: that one is opened as it is.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(Created::Existing),
        Err(e) => return Err(unavailable(e)),
    }
    make_private(path).map_err(unavailable)?;
    Ok(Created::New)
}

/// After SQLite opened a database this store created: its `-wal` and `-shm` files, where present,
/// are made 0600 too.
pub(crate) fn private_companions(path: &Path) -> Result<(), OpenError> {
    for companion in companions(path) {
        match make_private(&companion) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(OpenError::Unavailable {
                    description: format!("cannot restrict {}: {e}", companion.display()),
                });
            }
        }
    }
    Ok(())
}

/// The write-ahead log and shared-memory index SQLite keeps beside `path`.
fn companions(path: &Path) -> [PathBuf; 2] {
    let with_suffix = |suffix: &str| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    };
    [with_suffix("-wal"), with_suffix("-shm")]
}

#[cfg(unix)]
fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(PRIVATE_FILE_MODE))
}

#[cfg(not(unix))]
fn make_private(path: &Path) -> std::io::Result<()> {
    // No POSIX modes: the file inherits the directory's access control list.
    std::fs::metadata(path).map(|_| ())
}
