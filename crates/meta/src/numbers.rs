//! The WABA's phone numbers and each number's business profile, as Meta gives them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Fields asked for when listing numbers (the defaults are only id, name, number and quality).
pub const PHONE_FIELDS: &str = "id,display_phone_number,verified_name,quality_rating,code_verification_status,\
name_status,status,throughput,platform_type,messaging_limit_tier,whatsapp_business_manager_messaging_limit,account_mode";

pub const PROFILE_FIELDS: &str =
    "about,address,description,email,profile_picture_url,websites,vertical";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhoneNumber {
    pub id: String,
    #[serde(default)]
    pub display_phone_number: String,
    #[serde(default)]
    pub verified_name: String,
    /// GREEN, YELLOW, RED, UNKNOWN, NA
    #[serde(default)]
    pub quality_rating: Option<String>,
    #[serde(default)]
    pub code_verification_status: Option<String>,
    #[serde(default)]
    pub name_status: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub throughput: Option<Throughput>,
    #[serde(default)]
    pub platform_type: Option<String>,
    /// Deprecated by Meta in favour of `whatsapp_business_manager_messaging_limit`; read both.
    #[serde(default)]
    pub messaging_limit_tier: Option<String>,
    #[serde(default)]
    pub whatsapp_business_manager_messaging_limit: Option<Value>,
    #[serde(default)]
    pub account_mode: Option<String>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Throughput {
    pub level: String,
}

impl PhoneNumber {
    /// The messaging limit as a person reads it, from whichever field Meta filled.
    pub fn messaging_limit(&self) -> Option<String> {
        match &self.whatsapp_business_manager_messaging_limit {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Object(o)) => o
                .get("current_limit")
                .or_else(|| o.get("tier"))
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => self.messaging_limit_tier.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BusinessProfile {
    #[serde(default)]
    pub about: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub profile_picture_url: Option<String>,
    #[serde(default)]
    pub websites: Vec<String>,
    #[serde(default)]
    pub vertical: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(crate) struct ProfileEnvelope {
    pub data: Vec<BusinessProfile>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_either_messaging_limit_field() {
        let old: PhoneNumber =
            serde_json::from_str(r#"{"id":"1","display_phone_number":"+1 555","verified_name":"X","messaging_limit_tier":"TIER_1K"}"#)
                .unwrap();
        assert_eq!(old.messaging_limit().as_deref(), Some("TIER_1K"));
        let new: PhoneNumber = serde_json::from_str(
            r#"{"id":"1","whatsapp_business_manager_messaging_limit":{"current_limit":"TIER_10K"},"health_status":{"can_send_message":"AVAILABLE"}}"#,
        )
        .unwrap();
        assert_eq!(new.messaging_limit().as_deref(), Some("TIER_10K"));
        assert!(new.extra.contains_key("health_status"));
    }
}
