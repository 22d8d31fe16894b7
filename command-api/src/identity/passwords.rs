//! Password hashing with argon2id at OWASP's minimum (19 MiB, 2 iterations, 1 lane), on
//! the blocking pool so hashing never stalls the async runtime.

use std::sync::Arc;

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};
use service_kit::ApiError;

/// Hashes and verifies passwords.
#[derive(Clone)]
pub struct Passwords {
    /// A hash of no one's password: verifying against it when the account does not exist
    /// makes a wrong email cost as much time as a wrong password.
    decoy: Arc<str>,
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
    pub fn new() -> Self {
        Self {
            decoy: hash_now("decoy password, never valid").into(),
        }
    }

    /// The PHC string of a new hash of `password`.
    pub async fn hash(&self, password: String) -> Result<String, ApiError> {
        tokio::task::spawn_blocking(move || hash_now(&password))
            .await
            .map_err(ApiError::internal)
    }

    /// Whether `password` matches `hash`; with no hash, checks against the decoy and
    /// answers false, taking the same time.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, ApiError> {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| self.decoy.to_string());
        let matches = tokio::task::spawn_blocking(move || verify_now(&password, &hash))
            .await
            .map_err(ApiError::internal)?;
        Ok(known && matches)
    }
}

impl Default for Passwords {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let passwords = Passwords::new();
        let verified = passwords
            .verify("decoy password, never valid".into(), None)
            .await
            .unwrap();
        assert!(!verified);
    }
}
