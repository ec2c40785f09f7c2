//! Meta's media types and size limits, checked before any upload.

use serde::{Deserialize, Deserializer, Serialize};

/// The kinds of media WhatsApp carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Audio,
    Document,
    Image,
    Sticker,
    Video,
}

const MB: u64 = 1024 * 1024;

impl MediaKind {
    /// MIME types Meta accepts for this kind (parameters such as `; codecs=opus` are ignored).
    pub fn mime_types(self) -> &'static [&'static str] {
        match self {
            MediaKind::Audio => &[
                "audio/aac",
                "audio/amr",
                "audio/mpeg",
                "audio/mp4",
                "audio/ogg",
            ],
            MediaKind::Document => &[
                "text/plain",
                "application/pdf",
                "application/msword",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.ms-excel",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            ],
            MediaKind::Image => &["image/jpeg", "image/png"],
            MediaKind::Sticker => &["image/webp"],
            MediaKind::Video => &["video/mp4", "video/3gpp"],
        }
    }

    /// The largest file Meta accepts (an animated sticker may be 500 KB; static ones 100 KB).
    pub fn max_bytes(self) -> u64 {
        match self {
            MediaKind::Audio | MediaKind::Video => 16 * MB,
            MediaKind::Document => 100 * MB,
            MediaKind::Image => 5 * MB,
            MediaKind::Sticker => 500 * 1024,
        }
    }

    /// The kind a MIME type belongs to, if Meta accepts it at all.
    pub fn of_mime(mime: &str) -> Option<MediaKind> {
        let base = essence(mime);
        [
            MediaKind::Image,
            MediaKind::Sticker,
            MediaKind::Audio,
            MediaKind::Video,
            MediaKind::Document,
        ]
        .into_iter()
        .find(|k| k.mime_types().contains(&base.as_str()))
    }
}

fn essence(mime: &str) -> String {
    mime.split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn human(bytes: u64) -> String {
    if bytes >= MB {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    } else {
        format!("{} KB", bytes.div_ceil(1024))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error(
        "{mime} files cannot be sent on WhatsApp (accepted: images JPEG/PNG, stickers WebP, audio AAC/AMR/MP3/M4A/OGG, video MP4/3GP, documents PDF/TXT/Office)"
    )]
    UnsupportedType { mime: String },
    #[error("{name} is {size}; WhatsApp accepts {kind:?} files up to {max}")]
    TooLarge {
        name: String,
        kind: MediaKind,
        size: String,
        max: String,
    },
    #[error("{name} is empty")]
    Empty { name: String },
}

/// Checks a file before upload: its type is one Meta accepts and it is within the size limit.
pub fn check_upload(name: &str, mime: &str, bytes: u64) -> Result<MediaKind, MediaError> {
    let kind = MediaKind::of_mime(mime).ok_or_else(|| MediaError::UnsupportedType {
        mime: essence(mime),
    })?;
    if bytes == 0 {
        return Err(MediaError::Empty { name: name.into() });
    }
    if bytes > kind.max_bytes() {
        return Err(MediaError::TooLarge {
            name: name.into(),
            kind,
            size: human(bytes),
            max: human(kind.max_bytes()),
        });
    }
    Ok(kind)
}

/// `GET /{media-id}`: where to download a media file (the URL expires after 5 minutes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaInfo {
    pub id: String,
    pub url: String,
    pub mime_type: String,
    #[serde(default)]
    pub sha256: Option<String>,
    /// A string in Meta's OpenAPI example, a number elsewhere: both are accepted.
    #[serde(default, deserialize_with = "number_or_string")]
    pub file_size: Option<u64>,
}

fn number_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrStr {
        N(u64),
        S(String),
    }
    Ok(match Option::<NumOrStr>::deserialize(d)? {
        None => None,
        Some(NumOrStr::N(n)) => Some(n),
        Some(NumOrStr::S(s)) => s.trim().parse().ok(),
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadResponse {
    pub id: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_meta_accepts_and_names_what_it_refuses() {
        assert_eq!(
            check_upload("a.jpg", "image/jpeg", 1000),
            Ok(MediaKind::Image)
        );
        assert_eq!(
            check_upload("v.ogg", "audio/ogg; codecs=opus", 1000),
            Ok(MediaKind::Audio)
        );
        assert_eq!(
            check_upload("p.pdf", "application/pdf", 99 * MB),
            Ok(MediaKind::Document)
        );
        let e = check_upload("big.png", "image/png", 6 * MB).unwrap_err();
        assert_eq!(
            e.to_string(),
            "big.png is 6.0 MB; WhatsApp accepts Image files up to 5.0 MB"
        );
        let e = check_upload("x.gif", "image/gif", 10).unwrap_err();
        assert!(
            e.to_string().starts_with("image/gif files cannot be sent"),
            "{e}"
        );
        assert!(matches!(
            check_upload("e.png", "image/png", 0),
            Err(MediaError::Empty { .. })
        ));
    }

    #[test]
    fn file_size_may_be_a_string_or_a_number() {
        let a: MediaInfo = serde_json::from_str(
            r#"{"messaging_product":"whatsapp","url":"u","mime_type":"image/jpeg","sha256":"s","file_size":"303833","id":"1"}"#,
        )
        .unwrap();
        let b: MediaInfo = serde_json::from_str(
            r#"{"url":"u","mime_type":"image/jpeg","file_size":303833,"id":"1"}"#,
        )
        .unwrap();
        assert_eq!(a.file_size, Some(303833));
        assert_eq!(b.file_size, Some(303833));
    }
}
