//! Who may do what: the spec's resources × actions, roles, who acts (a staff member, the system or
//! a bot) and what each may do, and the sub-modules (screens) each may open. No storage here: the
//! workspace keeps roles in its database; the relay checks tokens against the same table.
//!
//! - [`permissions`]: resources, actions, roles, [`permissions::Actor`], [`permissions::Principal`].
//! - [`screens`]: the sub-modules of the product and who may open each.

pub mod permissions;
pub mod screens;
