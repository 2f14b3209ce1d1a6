//! A Python virtualenv with given PyPI packages, for tests that drive a
//! second, independent client (an official SDK) against Parlor. It is made
//! once per target directory (`target/python-envs/<name>-<key>`) and reused
//! by every later run; when python3 or PyPI is unavailable the caller gets a
//! [`PythonError`] and skips.
//!
//! ```no_run
//! # fn demo() -> Result<(), testkit::python::PythonError> {
//! let env = testkit::python::PythonEnv::ensure("sdk", &["elevenlabs>=2,<3"])?;
//! let status = env.command().args(["-c", "import elevenlabs"]).status();
//! # let _ = status; Ok(()) }
//! ```

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use thiserror::Error;

/// The interpreter a virtualenv is made from.
const PYTHON: &str = "python3";
/// Where under the target directory the environments live.
const ENVS_DIR: &str = "python-envs";

#[derive(Debug, Error)]
pub enum PythonError {
    #[error("`{PYTHON}` cannot run: {0}")]
    PythonMissing(#[source] io::Error),
    #[error("`{PYTHON} -m venv` failed (is the venv module installed?): {stderr}")]
    Venv { stderr: String },
    #[error("pip could not install {packages} (is PyPI reachable?): {stderr}")]
    Install { packages: String, stderr: String },
    #[error("the target directory cannot be found from the test binary's path")]
    NoTargetDir,
    #[error("i/o at {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// A ready virtualenv.
#[derive(Debug, Clone)]
pub struct PythonEnv {
    dir: PathBuf,
}

impl PythonEnv {
    /// The environment `name` with `packages` (pip requirement strings)
    /// installed, created on first use. Blocking: call it from
    /// `tokio::task::spawn_blocking` in async tests.
    pub fn ensure(name: &str, packages: &[&str]) -> Result<Self, PythonError> {
        let envs = target_dir()?.join(ENVS_DIR);
        let dir = envs.join(format!("{name}-{:016x}", key(packages)));
        if dir.join("pyvenv.cfg").is_file() {
            return Ok(Self { dir });
        }
        std::fs::create_dir_all(&envs).map_err(|source| PythonError::Io {
            path: envs.clone(),
            source,
        })?;
        // Built beside its final place and renamed into it, so a parallel run
        // never sees half an environment. Every call goes through
        // `bin/python`, which finds its environment from its own path, so the
        // rename does not break it.
        let staging = envs.join(format!("staging-{name}-{}", std::process::id()));
        let built = build(&staging, packages);
        if let Err(error) = built {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(error);
        }
        if std::fs::rename(&staging, &dir).is_err() {
            // Another run won the race; its environment is complete.
            let _ = std::fs::remove_dir_all(&staging);
        }
        Ok(Self { dir })
    }

    /// The environment's interpreter.
    pub fn python(&self) -> PathBuf {
        python_in(&self.dir)
    }

    /// A `Command` running the environment's interpreter.
    pub fn command(&self) -> Command {
        Command::new(self.python())
    }
}

fn build(staging: &Path, packages: &[&str]) -> Result<(), PythonError> {
    let venv = Command::new(PYTHON)
        .args(["-m", "venv"])
        .arg(staging)
        .output()
        .map_err(PythonError::PythonMissing)?;
    if !venv.status.success() {
        return Err(PythonError::Venv {
            stderr: stderr_of(&venv),
        });
    }
    if packages.is_empty() {
        return Ok(());
    }
    let install = Command::new(python_in(staging))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(packages)
        .output()
        .map_err(|source| PythonError::Io {
            path: python_in(staging),
            source,
        })?;
    if !install.status.success() {
        return Err(PythonError::Install {
            packages: packages.join(" "),
            stderr: stderr_of(&install),
        });
    }
    Ok(())
}

fn python_in(dir: &Path) -> PathBuf {
    dir.join("bin").join("python")
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

/// Tells environments with different package lists apart.
fn key(packages: &[&str]) -> u64 {
    let mut hasher = DefaultHasher::new();
    packages.hash(&mut hasher);
    hasher.finish()
}

/// `target/` of this build, from the test binary's own path
/// (`target/<profile>/deps/<binary>`).
fn target_dir() -> Result<PathBuf, PythonError> {
    let exe = std::env::current_exe().map_err(|source| PythonError::Io {
        path: PathBuf::from("<current executable>"),
        source,
    })?;
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .ok_or(PythonError::NoTargetDir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_lists_get_their_own_environment() {
        assert_eq!(key(&["a", "b"]), key(&["a", "b"]));
        assert_ne!(key(&["a", "b"]), key(&["a"]));
        assert_ne!(key(&["elevenlabs>=2,<3"]), key(&["pymongo"]));
    }

    #[test]
    fn an_environment_without_packages_runs_its_python_or_reports_why_not() {
        match PythonEnv::ensure("testkit-bare", &[]) {
            Ok(env) => {
                let output = env
                    .command()
                    .args(["-c", "import sys; print(sys.prefix != sys.base_prefix)"])
                    .output()
                    .expect("run the environment's python");
                assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "True");
            }
            Err(error @ (PythonError::PythonMissing(_) | PythonError::Venv { .. })) => {
                skip(&error);
            }
            Err(error) => panic!("{error}"),
        }
    }

    #[allow(clippy::print_stderr)]
    fn skip(error: &PythonError) {
        eprintln!("skipping: {error}");
    }
}
