//! The first admin, created from configuration when its address is not yet taken.

use schemas::identity::Role;
use secrecy::{ExposeSecret, SecretString};
use service_kit::ApiError;

use super::{handlers::create_account, input::RegisterInput};
use crate::{AppState, command::CommandContext};

/// The admin account the configuration asks for.
#[derive(Debug, Clone)]
pub struct AdminAccount {
    pub email: String,
    pub password: SecretString,
    pub name: String,
}

/// Registers the admin unless the address is taken already (by an earlier start or
/// another instance). Its password is never changed here.
pub async fn ensure(state: &AppState, admin: &AdminAccount) -> anyhow::Result<()> {
    let registration = RegisterInput {
        email: admin.email.clone(),
        password: admin.password.expose_secret().to_owned(),
        name: admin.name.clone(),
    }
    .parse()
    .map_err(|err| anyhow::anyhow!("ADMIN_EMAIL / ADMIN_PASSWORD / ADMIN_NAME: {}", err.message))?;
    let context = CommandContext {
        metadata: schemas::EventMetadata {
            correlation_id: "admin-bootstrap".into(),
            actor: None,
        },
        idempotency: None,
    };
    match create_account(state, registration, Role::Admin, &context).await {
        Ok((account, _)) => {
            tracing::info!(user_id = %account.user_id, "admin account created from configuration");
            Ok(())
        }
        Err(ApiError { status, .. }) if status == axum::http::StatusCode::CONFLICT => Ok(()),
        Err(err) => Err(anyhow::anyhow!(
            "creating the admin account: {}",
            err.message
        )),
    }
}
