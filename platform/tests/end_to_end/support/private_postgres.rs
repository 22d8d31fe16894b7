//! A PostgreSQL cluster of a test's own, which the test may restart or stop: the shared
//! test server must never be, as every other test uses it. Initialised in a temporary
//! directory from the server binaries on this machine (`initdb`, `pg_ctl`), listening on
//! 127.0.0.1 only with trust authentication.
//!
//! The binaries are the newest `/usr/lib/postgresql/<version>/bin` (where Debian's
//! packages, which `scripts/ensure-postgres` starts, put them), or the folder named by
//! `TEST_POSTGRES_BIN` (scripts/test names the wheel's of `scripts/install-postgres` on a
//! machine without them). Missing binaries fail the test.
//!
//! `initdb` and `postgres` refuse to run as root. As root they run as the `postgres` user
//! Debian's packages create, or, on a machine without it, as `nobody` in a user namespace
//! (as `scripts/ensure-postgres` runs its private server).

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// A running private cluster; stopped and removed when dropped.
pub(crate) struct PrivatePostgres {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
}

impl PrivatePostgres {
    /// Initialises and starts a cluster on a free port.
    pub(crate) fn start() -> Self {
        let bin = server_binaries();
        let dir = std::env::temp_dir().join(format!("pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = free_port();
        let cluster = Self { bin, dir, port };
        // initdb and pg_ctl refuse to run as root; the cluster then belongs to `postgres`.
        cluster.chown();
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            ],
        );
        let options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} \
             -c fsync=off -c max_connections=60",
            cluster.dir.display()
        );
        cluster.run(
            "pg_ctl",
            &[
                "-D",
                &cluster.data(),
                "-l",
                &cluster.log(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
        cluster
    }

    /// `postgres://postgres@127.0.0.1:<port>`, without a database.
    pub(crate) fn server_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}", self.port)
    }

    /// Restarts the server: `fast` ends every session and shuts down cleanly, `immediate`
    /// kills it as a crash would (recovery from the WAL follows). Waits until it accepts
    /// connections again.
    pub(crate) fn restart(&self, mode: &str) {
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-l",
                &self.log(),
                "-m",
                mode,
                "-w",
                "restart",
            ],
        );
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    fn log(&self) -> String {
        self.dir.join("server.log").display().to_string()
    }

    fn chown(&self) {
        if owner() == Owner::PostgresUser {
            let status = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&self.dir)
                .status()
                .unwrap();
            assert!(status.success(), "chown of {} failed", self.dir.display());
        }
    }

    /// Runs one of the server's programs (as `postgres` when this is root) and asserts it
    /// succeeded.
    fn run(&self, program: &str, args: &[&str]) {
        let program = self.bin.join(program);
        let output = as_owner(&program)
            .args(args)
            .current_dir(&self.dir)
            .output()
            .unwrap_or_else(|err| panic!("{} does not run: {err}", program.display()));
        assert!(
            output.status.success(),
            "{} {args:?} failed: {}{}\nserver log: {}",
            program.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            std::fs::read_to_string(self.log()).unwrap_or_default()
        );
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = as_owner(&self.bin.join("pg_ctl"))
            .args(["-D", &self.data(), "-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whom the server's programs run as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// This user, not root.
    Me,
    /// Root: the `postgres` user (the cluster's directory is given to it).
    PostgresUser,
    /// Root on a machine without a `postgres` user: `nobody` in a user namespace, where
    /// root's files are its own.
    Namespace,
}

fn owner() -> Owner {
    let uid = Command::new("id").arg("-u").output().expect("`id -u` runs");
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Owner::Me;
    }
    let postgres = Command::new("id")
        .arg("postgres")
        .output()
        .expect("`id` runs");
    if postgres.status.success() {
        Owner::PostgresUser
    } else {
        Owner::Namespace
    }
}

/// A command that runs `program` as [`owner`].
fn as_owner(program: &Path) -> Command {
    match owner() {
        Owner::Me => Command::new(program),
        Owner::PostgresUser => {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        }
        Owner::Namespace => {
            let mut command = Command::new("unshare");
            command
                .args(["--user", "--map-user=65534", "--map-group=65534"])
                .arg(program);
            command
        }
    }
}

/// The folder of `initdb` and `pg_ctl`: `TEST_POSTGRES_BIN`, else the newest installed
/// `/usr/lib/postgresql/<version>/bin`.
fn server_binaries() -> PathBuf {
    if let Ok(bin) = std::env::var("TEST_POSTGRES_BIN") {
        return PathBuf::from(bin);
    }
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            has_server(&bin).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin).expect(
        "no PostgreSQL server binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin; \
         install them or set TEST_POSTGRES_BIN",
    )
}

fn has_server(bin: &Path) -> bool {
    bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()
}

/// A TCP port on 127.0.0.1 that is free right now.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
