//! Tauri commands: each is one call into the core, returning `Result<T, ApiError>`.

mod audit;
mod connection;
mod contacts;
mod numbers;
mod session;
mod staff;
mod templates;

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
        contacts::list_contacts,
        contacts::create_contact,
        contacts::update_contact,
        contacts::delete_contacts,
        contacts::assign_groups,
        contacts::list_groups,
        contacts::create_group,
        contacts::update_group,
        contacts::delete_group,
        contacts::begin_import_upload,
        contacts::append_import_upload,
        contacts::run_import,
        contacts::cancel_import,
        contacts::save_refused_rows,
        connection::get_connection,
        connection::save_connection,
        connection::test_connection,
        numbers::list_numbers,
        numbers::refresh_numbers,
        numbers::number_picture,
        templates::list_templates,
        templates::get_template,
        templates::sync_templates,
        templates::create_template,
        templates::edit_template,
        templates::delete_template,
        templates::set_template_mapping,
        templates::template_models,
        templates::load_template_model,
        templates::merge_fields,
    ]
}
