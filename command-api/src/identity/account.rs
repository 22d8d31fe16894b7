//! The account aggregate as pure functions: who holds an email address, what a user's
//! stream says of them, and the events a registration produces. No I/O here.

use schemas::identity::{
    EmailClaimed, EmailReleased, IdentityEvent, PasswordChanged, Role, UserBlocked, UserDeleted,
    UserProfileChanged, UserRegistered, UserUnblocked,
};
use uuid::Uuid;

use super::input::{Email, Name};

/// A user as their own stream describes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user_id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub blocked: bool,
    pub deleted: bool,
    pub version: i64,
}

/// What can be done to an existing account. A name change without a name keeps the
/// current one (a partial update that changes nothing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountCommand {
    ChangeName { name: Option<Name> },
    ChangePassword,
    Block { by: Uuid },
    Unblock { by: Uuid },
    Delete { by: Uuid },
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
    #[error("no such member")]
    NotFound,
    #[error("the member is blocked already")]
    AlreadyBlocked,
    #[error("the member is not blocked")]
    NotBlocked,
    #[error("an admin cannot block themselves")]
    SelfBlock,
}

/// The events a command on an existing account produces. A deletion also releases the
/// email address (an event of the address's stream, appended together).
pub fn decide(
    state: Option<&Account>,
    command: AccountCommand,
) -> Result<Vec<IdentityEvent>, AccountError> {
    let account = state.filter(|a| !a.deleted).ok_or(AccountError::NotFound)?;
    let user_id = account.user_id;
    let event = match command {
        AccountCommand::ChangeName { name } => {
            IdentityEvent::UserProfileChanged(UserProfileChanged {
                user_id,
                name: name.map_or_else(|| account.name.clone(), Name::into_inner),
            })
        }
        AccountCommand::ChangePassword => {
            IdentityEvent::PasswordChanged(PasswordChanged { user_id })
        }
        AccountCommand::Block { by } if by == user_id => return Err(AccountError::SelfBlock),
        AccountCommand::Block { .. } if account.blocked => {
            return Err(AccountError::AlreadyBlocked);
        }
        AccountCommand::Block { by } => IdentityEvent::UserBlocked(UserBlocked { user_id, by }),
        AccountCommand::Unblock { .. } if !account.blocked => return Err(AccountError::NotBlocked),
        AccountCommand::Unblock { by } => {
            IdentityEvent::UserUnblocked(UserUnblocked { user_id, by })
        }
        AccountCommand::Delete { by } => {
            return Ok(vec![
                IdentityEvent::UserDeleted(UserDeleted { user_id, by }),
                IdentityEvent::EmailReleased(EmailReleased {
                    email: account.email.clone(),
                    user_id,
                }),
            ]);
        }
    };
    Ok(vec![event])
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
        IdentityEvent::EmailReleased(_) => EmailClaim {
            holder: None,
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
            blocked: false,
            deleted: false,
            version,
        }),
        (Some(account), IdentityEvent::UserProfileChanged(e)) => Some(Account {
            name: e.name.clone(),
            version,
            ..account
        }),
        (Some(account), IdentityEvent::UserBlocked(_)) => Some(Account {
            blocked: true,
            version,
            ..account
        }),
        (Some(account), IdentityEvent::UserUnblocked(_)) => Some(Account {
            blocked: false,
            version,
            ..account
        }),
        (Some(account), IdentityEvent::UserDeleted(_)) => Some(Account {
            deleted: true,
            version,
            ..account
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

    fn given(events: &[IdentityEvent]) -> Option<Account> {
        events
            .iter()
            .zip(1..)
            .fold(None, |state, (event, version)| {
                evolve(state, event, version)
            })
    }

    fn registered(user: Uuid) -> IdentityEvent {
        register(EmailClaim::default(), user, &email(), name(), Role::User)
            .unwrap()
            .1
    }

    #[test]
    fn blocking_needs_an_unblocked_member_and_another_admin() {
        let (user, admin) = (Uuid::now_v7(), Uuid::now_v7());
        let state = given(&[registered(user)]);
        assert_eq!(
            decide(state.as_ref(), AccountCommand::Block { by: user }),
            Err(AccountError::SelfBlock)
        );
        assert_eq!(
            decide(state.as_ref(), AccountCommand::Unblock { by: admin }),
            Err(AccountError::NotBlocked)
        );
        let blocked = decide(state.as_ref(), AccountCommand::Block { by: admin }).unwrap();
        let state = given(&[registered(user), blocked[0].clone()]);
        assert!(state.as_ref().unwrap().blocked);
        assert_eq!(
            decide(state.as_ref(), AccountCommand::Block { by: admin }),
            Err(AccountError::AlreadyBlocked)
        );
        assert!(decide(state.as_ref(), AccountCommand::Unblock { by: admin }).is_ok());
    }

    #[test]
    fn deleting_releases_the_address_and_ends_the_account() {
        let user = Uuid::now_v7();
        let state = given(&[registered(user)]);
        let events = decide(state.as_ref(), AccountCommand::Delete { by: user }).unwrap();
        let claim = evolve_claim(
            EmailClaim {
                holder: Some(user),
                version: 1,
            },
            &events[1],
            2,
        );
        assert_eq!(claim.holder, None);
        let state = given(&[registered(user), events[0].clone()]);
        assert_eq!(
            decide(state.as_ref(), AccountCommand::ChangePassword),
            Err(AccountError::NotFound)
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
