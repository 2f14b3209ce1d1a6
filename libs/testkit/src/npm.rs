//! npm packages pinned by a `package.json` and `package-lock.json`,
//! installed once with `npm ci` into a cache outside the repository
//! (`$PARLOR_NPM_CACHE`, else `~/.cache/parlor/npm`), keyed by the lock
//! file's contents, for tests that drive a browser or check vendored files.
//! When npm or the registry is unavailable the caller gets an [`NpmError`]
//! and skips.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use thiserror::Error;

const NPM: &str = "npm";
const MANIFEST: &str = "package.json";
const LOCK: &str = "package-lock.json";
/// Written last, so a cache entry without it is not trusted.
const DONE: &str = ".parlor-installed";

/// One install at a time within a process (the staging folder is named
/// by process); other processes are kept apart by the rename.
static INSTALLING: Mutex<()> = Mutex::new(());

#[derive(Debug, Error)]
pub enum NpmError {
    #[error("`{NPM}` cannot run: {0}")]
    NpmMissing(#[source] io::Error),
    #[error("`npm ci` failed (is the npm registry reachable?): {stderr}")]
    Install { stderr: String },
    #[error("no cache directory: set PARLOR_NPM_CACHE or HOME")]
    NoCacheDir,
    #[error("i/o at {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// An installed `node_modules`.
#[derive(Debug, Clone)]
pub struct NpmPackages {
    dir: PathBuf,
}

impl NpmPackages {
    /// The packages `project` (a folder holding `package.json` and
    /// `package-lock.json`) pins, installed on first use. Blocking: call it
    /// from `tokio::task::spawn_blocking` in async tests.
    pub fn ensure(project: &Path) -> Result<Self, NpmError> {
        let manifest = read(&project.join(MANIFEST))?;
        let lock = read(&project.join(LOCK))?;
        let cache = cache_dir()?;
        let dir = cache.join(format!("{:016x}", key(&manifest, &lock)));
        let _turn = INSTALLING
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if dir.join(DONE).is_file() {
            return Ok(Self { dir });
        }
        // Installed beside its final place and renamed into it, so a
        // parallel run never sees half a node_modules.
        let staging = cache.join(format!("staging-{}", std::process::id()));
        let built = install(&staging, &manifest, &lock);
        if let Err(error) = built {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(error);
        }
        if std::fs::rename(&staging, &dir).is_err() {
            // Another run won the race; its install is complete.
            let _ = std::fs::remove_dir_all(&staging);
        }
        Ok(Self { dir })
    }

    /// The installed `node_modules` folder.
    pub fn node_modules(&self) -> PathBuf {
        self.dir.join("node_modules")
    }

    /// The folder of one installed package (`uplot`, `@elevenlabs/client`).
    pub fn package(&self, name: &str) -> PathBuf {
        self.node_modules().join(name)
    }
}

fn install(staging: &Path, manifest: &[u8], lock: &[u8]) -> Result<(), NpmError> {
    let _ = std::fs::remove_dir_all(staging);
    std::fs::create_dir_all(staging).map_err(|source| io_at(staging, source))?;
    write(&staging.join(MANIFEST), manifest)?;
    write(&staging.join(LOCK), lock)?;
    let installed = Command::new(NPM)
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(staging)
        .output()
        .map_err(NpmError::NpmMissing)?;
    if !installed.status.success() {
        return Err(NpmError::Install {
            stderr: stderr_of(&installed),
        });
    }
    write(&staging.join(DONE), b"")
}

fn cache_dir() -> Result<PathBuf, NpmError> {
    if let Some(dir) = std::env::var_os("PARLOR_NPM_CACHE") {
        return Ok(PathBuf::from(dir));
    }
    let home = std::env::var_os("HOME").ok_or(NpmError::NoCacheDir)?;
    Ok(PathBuf::from(home).join(".cache/parlor/npm"))
}

fn read(path: &Path) -> Result<Vec<u8>, NpmError> {
    std::fs::read(path).map_err(|source| io_at(path, source))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), NpmError> {
    std::fs::write(path, bytes).map_err(|source| io_at(path, source))
}

fn io_at(path: &Path, source: io::Error) -> NpmError {
    NpmError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The tool's stderr on one line, so a skipping test prints one line.
fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Tells installs of different pins apart.
fn key(manifest: &[u8], lock: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    manifest.hash(&mut hasher);
    lock.hash(&mut hasher);
    hasher.finish()
}

/// Debian's `chromium` (or the browser named by `PARLOR_CHROMIUM`), for
/// tests that drive a headless browser; `None` when there is none.
pub fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PARLOR_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("chromium"))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_pins_get_their_own_install() {
        assert_eq!(key(b"m", b"l"), key(b"m", b"l"));
        assert_ne!(key(b"m", b"l"), key(b"m", b"l2"));
        assert_ne!(key(b"m2", b"l"), key(b"m", b"l"));
    }
}
