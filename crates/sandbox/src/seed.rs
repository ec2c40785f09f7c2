//! Seed data, all of it clearly sandbox data: one WABA, two numbers in the fictional
//! +1 555-555-01xx range with business profiles and drawn pictures, simulated customers
//! ([`super::customers`]), and approved sample templates (Meta's `hello_world` and
//! `sample_issue_resolution`, plus sandbox templates matching the OAS send examples).

use std::sync::Arc;

use serde_json::{Value, json};

use super::customers::seed_customers;
use super::error::SandboxError;
use super::picture;
use super::store::{BusinessProfile, PhoneNumber, Store, Template, Waba};
use super::validate::templates::{ParamFormat, validate_create};

/// The sandbox WABA's id.
pub const WABA_ID: &str = "555100000000001";
/// "Sandbox Sales", +1 555-555-0101.
pub const SALES_PHONE_NUMBER_ID: &str = "555200000000001";
/// "Sandbox Support", +1 555-555-0102.
pub const SUPPORT_PHONE_NUMBER_ID: &str = "555200000000002";

pub(crate) fn store(seed: u64, created_unix: u64) -> Result<Store, SandboxError> {
    let number = |id: &str,
                  display: &str,
                  name: &str,
                  initials: &str,
                  rgb: [u8; 3],
                  about: &str| {
        Ok::<_, SandboxError>(PhoneNumber {
            id: id.to_owned(),
            display_phone_number: display.to_owned(),
            verified_name: name.to_owned(),
            quality_rating: "GREEN".to_owned(),
            created_unix,
            profile: BusinessProfile {
                about: about.to_owned(),
                address: "1 Sandbox Way, Nowhere (not a real address)".to_owned(),
                description: format!(
                    "{name} is a sandbox number of CRMConnect WhatsApp: a local stand-in for Meta. \
                     Nothing sent here reaches a real phone."
                ),
                email: "sandbox@example.invalid".to_owned(),
                websites: vec!["https://example.invalid/sandbox".to_owned()],
                vertical: "PROF_SERVICES".to_owned(),
            },
            picture_png: Arc::new(picture::initials_png(initials, rgb)?),
        })
    };
    let numbers = vec![
        number(
            SALES_PHONE_NUMBER_ID,
            "+1 555-555-0101",
            "Sandbox Sales",
            "SA",
            [0x1f, 0x7a, 0x4d],
            "Sandbox sales line (not a real business)",
        )?,
        number(
            SUPPORT_PHONE_NUMBER_ID,
            "+1 555-555-0102",
            "Sandbox Support",
            "SU",
            [0x2b, 0x4c, 0x9a],
            "Sandbox support line (not a real business)",
        )?,
    ];
    let waba = Waba {
        id: WABA_ID.to_owned(),
        name: "CRMConnect Sandbox WABA".to_owned(),
        currency: "USD".to_owned(),
        timezone_id: "1".to_owned(),
        namespace: "sandbox_0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0".to_owned(),
    };
    let mut store = Store::new(seed, waba, numbers, seed_customers());
    for payload in templates() {
        // The seeds are checked by a unit test; a bad one is skipped rather than fatal.
        match validate_create(&payload) {
            Ok(t) => {
                let id = store.numeric_id();
                let format = if payload["parameter_format"] == "NAMED" {
                    ParamFormat::Named
                } else {
                    ParamFormat::Positional
                };
                store.templates.push(Template {
                    id,
                    name: t.name,
                    language: t.language,
                    category: t.category,
                    status: "APPROVED".to_owned(),
                    parameter_format: format.as_str().to_owned(),
                    components: t.components,
                    spec: t.spec,
                    rejected_reason: None,
                    revision: 0,
                });
            }
            Err(e) => {
                tracing::error!(template = %payload["name"], error = %e.error.message, "seed template refused")
            }
        }
    }
    Ok(store)
}

fn templates() -> Vec<Value> {
    let body3 = "Hi {{1}}, your order total is {{2}}, delivered on {{3}}. Thank you!";
    let body3_example = json!({"body_text": [["Pablo", "$100.99", "February 25, 1977"]]});
    let image_header = json!({"type": "HEADER", "format": "IMAGE", "example": {"header_handle": ["4::c2FuZGJveA==:sandbox-sample-handle"]}});
    vec![
        json!({"name": "hello_world", "language": "en_US", "category": "UTILITY", "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
            {"type": "BODY", "text": "Welcome and congratulations!! This message demonstrates your ability to send a WhatsApp message notification from the Cloud API, hosted by Meta. Thank you for taking the time to test with us."},
            {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"}]}),
        json!({"name": "sample_issue_resolution", "language": "en_US", "category": "UTILITY", "components": [
            {"type": "BODY", "text": "Hi {{1}}, were we able to solve the issue that you were facing?", "example": {"body_text": [["Mr. Jones"]]}},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Yes"}, {"type": "QUICK_REPLY", "text": "No"}]}]}),
        json!({"name": "sandbox_order_text", "language": "en_US", "category": "UTILITY", "components": [
            {"type": "BODY", "text": body3, "example": body3_example}]}),
        json!({"name": "sandbox_order_media", "language": "en_US", "category": "UTILITY", "components": [
            image_header, {"type": "BODY", "text": body3, "example": body3_example}]}),
        json!({"name": "sandbox_order_interactive", "language": "en_US", "category": "MARKETING", "components": [
            image_header, {"type": "BODY", "text": body3, "example": body3_example},
            {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Track my order"}, {"type": "QUICK_REPLY", "text": "Talk to us"}]}]}),
        json!({"name": "sandbox_welcome_named", "language": "en_US", "category": "UTILITY", "parameter_format": "NAMED", "components": [
            {"type": "BODY", "text": "Hello {{customer_name}}, your order {{order_id}} is confirmed. Thanks for shopping with us!",
             "example": {"body_text_named_params": [{"param_name": "customer_name", "example": "Jessica"}, {"param_name": "order_id", "example": "SB-1001"}]}}]}),
        json!({"name": "sandbox_cart_link", "language": "en_US", "category": "MARKETING", "components": [
            {"type": "BODY", "text": "Hi {{1}}, your cart is waiting for you.", "example": {"body_text": [["Ana"]]}},
            {"type": "BUTTONS", "buttons": [
                {"type": "QUICK_REPLY", "text": "Stop promotions"},
                {"type": "URL", "text": "Open my cart", "url": "https://shop.example.invalid/cart/{{1}}", "example": ["sb-42"]}]}]}),
        json!({"name": "intro_catalog_offer", "language": "en_US", "category": "MARKETING", "components": [
            {"type": "BODY", "text": "Now shop for your favourite products right here on WhatsApp! Get Rs {{1}} off on all orders above {{2}}Rs! Valid for your first {{3}} orders placed on WhatsApp!", "example": {"body_text": [["100", "400", "3"]]}},
            {"type": "BUTTONS", "buttons": [{"type": "CATALOG", "text": "View catalog"}]}]}),
        json!({"name": "sandbox_flow_signup", "language": "en_US", "category": "MARKETING", "components": [
            {"type": "BODY", "text": "Sign up for our sandbox newsletter in under a minute."},
            {"type": "BUTTONS", "buttons": [{"type": "FLOW", "text": "Sign up", "flow_id": "555300000000001", "flow_action": "navigate", "navigate_screen": "WELCOME"}]}]}),
        json!({"name": "sandbox_verification_code", "language": "en_US", "category": "AUTHENTICATION", "components": [
            {"type": "BODY", "add_security_recommendation": true},
            {"type": "FOOTER", "code_expiration_minutes": 10},
            {"type": "BUTTONS", "buttons": [{"type": "OTP", "otp_type": "COPY_CODE", "text": "Copy code"}]}]}),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_seed_template_is_valid_and_numbers_are_labelled() {
        for t in templates() {
            if let Err(e) = validate_create(&t) {
                panic!("{}: {}", t["name"], e.error.message);
            }
        }
        let s = store(1, 0).unwrap();
        assert_eq!(s.templates.len(), templates().len());
        assert!(s.templates.iter().all(|t| t.status == "APPROVED"));
        assert_eq!(s.numbers.len(), 2);
        assert!(
            s.numbers
                .iter()
                .all(|n| n.verified_name.starts_with("Sandbox ")
                    && n.display_phone_number.starts_with("+1 555-")
                    && n.profile.about.contains("not a real business"))
        );
        assert_ne!(s.numbers[0].picture_png, s.numbers[1].picture_png);
        assert_eq!(s.numbers[0].digits(), "15555550101");
    }
}
