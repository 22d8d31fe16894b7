//! Client keys: whoever holds one may report errors to its project, so they come from a
//! cryptographically secure generator.

use rand::RngCore;

/// A fresh key: 32 lower-case hex digits (128 random bits), as Sentry's are.
pub fn generate() -> String {
    let mut bytes = [0u8; 16];
    // ThreadRng is a CSPRNG (ChaCha, reseeded from the operating system).
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_32_lower_case_hex_digits_and_never_the_same_twice() {
        let (a, b) = (generate(), generate());
        assert_eq!(a.len(), 32);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }
}
