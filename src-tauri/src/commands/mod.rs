//! Tauri commands: each is one call into the core, returning `Result<T, ApiError>`.

mod audit;
mod session;
mod staff;

pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        session::app_status,
        session::create_owner,
        session::sign_in,
        session::sign_out,
        session::last_username,
        session::open_screen,
        staff::list_staff,
        staff::create_staff,
        staff::update_staff,
        staff::delete_staff,
        staff::set_passphrase,
        staff::list_roles,
        staff::create_role,
        staff::update_role,
        staff::delete_role,
        staff::permission_catalog,
        audit::activity_log,
    ]
}
