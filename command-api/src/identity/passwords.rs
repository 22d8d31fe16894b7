//! Password hashing with argon2id at OWASP's minimum (19 MiB, 2 iterations, 1 lane), on
//! the blocking pool so hashing never stalls the async runtime, a bounded number at once:
//! the blocking pool would otherwise run up to 512 of them, gigabytes and every core for
//! whoever sends many wrong passwords at once.

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use service_kit::ApiError;
use tokio::sync::Semaphore;

/// Hashes and verifies passwords.
#[derive(Clone)]
pub struct Passwords {
    /// A hash of no one's password: verifying against it when the account does not exist
    /// makes a wrong email cost as much time as a wrong password.
    decoy: Arc<str>,
    /// One permit per hash that may run at once; the others wait in line.
    turns: Arc<Semaphore>,
    running: Arc<Running>,
}

/// Hashes running now, and the most that ever ran at once.
#[derive(Default)]
struct Running {
    now: AtomicUsize,
    peak: AtomicUsize,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_now(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 accepts any password and salt")
        .to_string()
}

fn verify_now(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        argon2()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

impl Passwords {
    /// At most `concurrency` hashes (or verifications) at once.
    pub fn new(concurrency: usize) -> Self {
        Self {
            decoy: hash_now("decoy password, never valid").into(),
            turns: Arc::new(Semaphore::new(concurrency.max(1))),
            running: Arc::default(),
        }
    }

    /// The PHC string of a new hash of `password`.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        self.in_turn(move || hash_now(&password)).await
    }

    /// Whether `password` matches `hash`; with no hash, checks against the decoy and
    /// answers false, taking the same time.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.decoy.to_string());
        let matches = self.in_turn(move || verify_now(&password, &hash)).await?;
        Ok(known && matches)
    }

    /// Runs `work` on the blocking pool once a turn is free.
    async fn in_turn<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let turn = self
            .turns
            .clone()
            .acquire_owned()
            .await
            .map_err(ApiError::failure)?;
        let running = self.running.clone();
        tokio::task::spawn_blocking(move || {
            let now = running.now.fetch_add(1, Ordering::SeqCst) + 1;
            running.peak.fetch_max(now, Ordering::SeqCst);
            metrics::gauge!("password_hashes_running").set(now as f64);
            let done = work();
            running.now.fetch_sub(1, Ordering::SeqCst);
            drop(turn);
            done
        })
        .await
        .map_err(ApiError::failure)
    }

    /// The most hashes that ever ran at once.
    pub fn peak_concurrency(&self) -> usize {
        self.running.peak.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn no_more_hashes_run_at_once_than_allowed() {
        let passwords = Passwords::new(2);
        let mut hashes = tokio::task::JoinSet::new();
        for n in 0..8 {
            let passwords = passwords.clone();
            hashes.spawn(async move { passwords.hash(format!("password number {n}")).await });
        }
        while let Some(hashed) = hashes.join_next().await {
            assert!(hashed.expect("no panic").is_ok());
        }
        assert_eq!(passwords.peak_concurrency(), 2);
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let hash = hash_now("Secret123");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(verify_now("Secret123", &hash));
        assert!(!verify_now("Secret124", &hash));
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_their_salt() {
        assert_ne!(hash_now("Secret123"), hash_now("Secret123"));
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies_even_with_the_decoy_password() {
        let passwords = Passwords::new(2);
        let verified = passwords
            .verify("decoy password, never valid".into(), None)
            .await
            .unwrap();
        assert!(!verified);
    }
}
