//! Meta's media types and size limits (meta-cloud-api.md §4). Refusals are error 131053 with
//! details naming the type or size.

use crate::error::Refusal;

const MB: u64 = 1024 * 1024;
const KB: u64 = 1024;

#[derive(Debug)]
pub struct MediaRule {
    /// The message type the media can be sent as.
    pub kind: &'static str,
    pub mimes: &'static [&'static str],
    pub max_bytes: u64,
}

pub const RULES: &[MediaRule] = &[
    MediaRule {
        kind: "audio",
        mimes: &[
            "audio/aac",
            "audio/amr",
            "audio/mpeg",
            "audio/mp4",
            "audio/ogg",
        ],
        max_bytes: 16 * MB,
    },
    MediaRule {
        kind: "document",
        mimes: &[
            "text/plain",
            "application/pdf",
            "application/msword",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/vnd.ms-excel",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ],
        max_bytes: 100 * MB,
    },
    MediaRule {
        kind: "image",
        mimes: &["image/jpeg", "image/png"],
        max_bytes: 5 * MB,
    },
    MediaRule {
        kind: "sticker",
        mimes: &["image/webp"],
        max_bytes: 500 * KB,
    },
    MediaRule {
        kind: "video",
        mimes: &["video/mp4", "video/3gpp", "video/3gp"],
        max_bytes: 16 * MB,
    },
];

/// Static stickers are limited to 100 KB; animated ones (a WebP with an `ANIM` chunk) to 500 KB.
pub const STATIC_STICKER_MAX: u64 = 100 * KB;

/// The largest upload of any type: the server stops reading beyond it.
pub const MAX_UPLOAD: u64 = 100 * MB;

/// `image/JPEG; q=1` → `image/jpeg`.
pub fn base_mime(mime: &str) -> String {
    mime.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

pub fn rule_for(mime: &str) -> Option<&'static MediaRule> {
    let base = base_mime(mime);
    RULES.iter().find(|r| r.mimes.contains(&base.as_str()))
}

/// The limit for `mime`, once the first bytes are known (for stickers).
pub fn limit_for(mime: &str, head: &[u8]) -> Option<u64> {
    let rule = rule_for(mime)?;
    if rule.kind == "sticker" && !head.windows(4).any(|w| w == b"ANIM") {
        return Some(STATIC_STICKER_MAX);
    }
    Some(rule.max_bytes)
}

/// A refusal for an unsupported type.
pub fn unsupported(mime: &str) -> Refusal {
    let all: Vec<&str> = RULES.iter().flat_map(|r| r.mimes.iter().copied()).collect();
    Refusal::new(
        131053,
        format!(
            "Param file must be a file with one of the following types: {}. Received file of type '{}'",
            all.join(", "),
            base_mime(mime)
        ),
    )
}

/// A refusal for a file over the limit of its type.
pub fn too_large(mime: &str, size: u64, limit: u64) -> Refusal {
    Refusal::new(
        131053,
        format!(
            "the {} file is {size} bytes; files of type {} may be at most {limit} bytes ({})",
            rule_for(mime).map(|r| r.kind).unwrap_or("media"),
            base_mime(mime),
            human(limit)
        ),
    )
}

fn human(bytes: u64) -> String {
    if bytes >= MB {
        format!("{} MB", bytes / MB)
    } else {
        format!("{} KB", bytes / KB)
    }
}

/// Checks a complete upload: type, emptiness and size.
pub fn check_upload(mime: &str, bytes: &[u8]) -> Result<&'static MediaRule, Refusal> {
    let rule = rule_for(mime).ok_or_else(|| unsupported(mime))?;
    if bytes.is_empty() {
        return Err(Refusal::new(131053, "the uploaded file is empty"));
    }
    let limit = limit_for(mime, bytes).unwrap_or(rule.max_bytes);
    if bytes.len() as u64 > limit {
        return Err(too_large(mime, bytes.len() as u64, limit));
    }
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_limits() {
        assert_eq!(check_upload("image/png", b"x").unwrap().kind, "image");
        assert_eq!(
            check_upload("audio/ogg; codecs=opus", b"x").unwrap().kind,
            "audio"
        );
        let e = check_upload("image/gif", b"x").unwrap_err();
        assert_eq!(e.code(), 131053);
        assert!(e.error.message.contains("image/gif"));
        let big = vec![0u8; (5 * MB + 1) as usize];
        let e = check_upload("image/jpeg", &big).unwrap_err();
        assert!(e.error.message.contains("5 MB"), "{}", e.error.message);
        let sticker = vec![0u8; (150 * KB) as usize];
        assert!(check_upload("image/webp", &sticker).is_err());
        let mut animated = b"RIFF\0\0\0\0WEBPVP8XANIM".to_vec();
        animated.resize((150 * KB) as usize, 0);
        assert!(check_upload("image/webp", &animated).is_ok());
        assert!(check_upload("application/pdf", b"").is_err());
    }
}
