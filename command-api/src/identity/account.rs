//! The account aggregate as pure functions: who holds an email address, what a user's
//! stream says of them, and the events a registration produces. No I/O here.

use schemas::identity::{EmailClaimed, IdentityEvent, Role, UserRegistered};
use uuid::Uuid;

use super::input::{Email, Name};

/// A user as their own stream describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub version: i64,
}

/// Who holds an email address, from the address's stream, and its version.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmailClaim {
    pub holder: Option<Uuid>,
    pub version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("an account with this email already exists")]
    EmailTaken,
}

/// The events of a registration: the claim on the address and the new account, to be
/// appended together.
pub fn register(
    claim: EmailClaim,
    user_id: Uuid,
    email: &Email,
    name: Name,
    role: Role,
) -> Result<(IdentityEvent, IdentityEvent), AccountError> {
    if claim.holder.is_some() {
        return Err(AccountError::EmailTaken);
    }
    let claimed = IdentityEvent::EmailClaimed(EmailClaimed {
        email: email.as_str().to_owned(),
        user_id,
    });
    let registered = IdentityEvent::UserRegistered(UserRegistered {
        user_id,
        email: email.as_str().to_owned(),
        name: name.into_inner(),
        role,
    });
    Ok((claimed, registered))
}

/// The claim after one more event of the address's stream.
pub fn evolve_claim(claim: EmailClaim, event: &IdentityEvent, version: i64) -> EmailClaim {
    match event {
        IdentityEvent::EmailClaimed(e) => EmailClaim {
            holder: Some(e.user_id),
            version,
        },
        _ => EmailClaim { version, ..claim },
    }
}

/// The account after one more event of the user's stream.
pub fn evolve(state: Option<Account>, event: &IdentityEvent, version: i64) -> Option<Account> {
    match (state, event) {
        (_, IdentityEvent::UserRegistered(e)) => Some(Account {
            user_id: e.user_id,
            email: e.email.clone(),
            name: e.name.clone(),
            role: e.role,
            version,
        }),
        (state, _) => state.map(|account| Account { version, ..account }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Email {
        Email::parse("ada@example.com").unwrap()
    }

    fn name() -> Name {
        Name::parse("Ada").unwrap()
    }

    #[test]
    fn registering_a_free_address_claims_it_and_creates_the_account() {
        let user = Uuid::now_v7();
        let (claimed, registered) =
            register(EmailClaim::default(), user, &email(), name(), Role::User).unwrap();
        let claim = evolve_claim(EmailClaim::default(), &claimed, 1);
        assert_eq!(claim.holder, Some(user));
        let account = evolve(None, &registered, 1).unwrap();
        assert_eq!(
            (account.email.as_str(), account.role),
            ("ada@example.com", Role::User)
        );
    }

    #[test]
    fn registering_a_held_address_is_refused() {
        let held = EmailClaim {
            holder: Some(Uuid::now_v7()),
            version: 1,
        };
        let result = register(held, Uuid::now_v7(), &email(), name(), Role::User);
        assert_eq!(result.unwrap_err(), AccountError::EmailTaken);
    }
}
