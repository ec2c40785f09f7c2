//! Media in the chat: files handed over by the webview for a send, and received media fetched
//! with the token, cached on disk, shown and saved.

use super::*;

impl Workspace {
    pub(super) fn chat_media_dir(&self) -> PathBuf {
        Path::new(&self.info().path)
            .parent()
            .map(|p| p.join("media"))
            .unwrap_or_else(|| PathBuf::from("media"))
    }
}

impl Ctx<'_> {
    /// Fetches an inbound (or sent) message's media with the token, cached on disk.
    pub async fn chat_media(&self, message_id: i64) -> Result<MediaFile> {
        let (media, bytes) = self.media_bytes(message_id).await?;
        use base64::Engine as _;
        Ok(MediaFile {
            mime_type: media
                .mime_type
                .unwrap_or_else(|| "application/octet-stream".into()),
            filename: media.filename,
            data: base64::engine::general_purpose::STANDARD.encode(&bytes),
        })
    }
    /// Saves a message's media into `folder` (the user's downloads) under its own file name,
    /// never over an existing file; returns the new path.
    pub async fn save_chat_media(&self, message_id: i64, folder: &Path) -> Result<String> {
        let (media, bytes) = self.media_bytes(message_id).await?;
        let name = save_name(&media, message_id);
        let io = |e: std::io::Error| {
            ChatError::Media(format!("cannot save into {}: {e}", folder.display()))
        };
        let (mut f, path) = crate::uploads::create_new_file(folder, &name).map_err(io)?;
        use std::io::Write as _;
        f.write_all(&bytes).map_err(io)?;
        Ok(path.display().to_string())
    }
    /// A message's media and its bytes: the local copy, the cache, or Meta (with the token).
    pub(super) async fn media_bytes(&self, message_id: i64) -> Result<(MediaRef, Vec<u8>)> {
        self.actor()
            .await?
            .require(Resource::WhatsappChat, Action::View)?;
        let content =
            sqlx::query_scalar!("SELECT content FROM chat_messages WHERE id = ?", message_id)
                .fetch_optional(self.db())
                .await?
                .ok_or(ChatError::NoMessage(message_id))?;
        let content: MessageContent =
            serde_json::from_str(&content).map_err(|e| ChatError::Corrupt(e.to_string()))?;
        let media = match content {
            MessageContent::Image { media }
            | MessageContent::Video { media }
            | MessageContent::Audio { media, .. }
            | MessageContent::Document { media }
            | MessageContent::Sticker { media, .. } => media,
            MessageContent::Template {
                header_document: Some(media),
                ..
            } => media,
            _ => {
                return Err(
                    ChatError::Invalid(format!("message #{message_id} has no media")).into(),
                );
            }
        };
        if let Some(path) = media.local_path.clone() {
            let roots = [self.chat_media_dir(), self.documents_dir()];
            if let Ok(Some(bytes)) =
                tokio::task::spawn_blocking(move || read_kept(Path::new(&path), &roots)).await
            {
                return Ok((media, bytes));
            }
        }
        let id = media
            .media_id
            .clone()
            .ok_or_else(|| ChatError::Media("Meta has no copy of this file".into()))?;
        if id.contains(['/', '\\', '.']) {
            return Err(ChatError::Media(format!("“{id}” is not a media id")).into());
        }
        let cache = self.chat_media_dir().join("cache").join(&id);
        let roots = [self.chat_media_dir()];
        let cached = cache.clone();
        if let Ok(Some(bytes)) =
            tokio::task::spawn_blocking(move || read_kept(&cached, &roots)).await
        {
            return Ok((media, bytes));
        }
        let (client, _) = self.graph_client().await?;
        let info = client
            .media_info(&id)
            .await
            .map_err(|e| ChatError::Media(e.to_string()))?;
        let bytes = client
            .download(&info.url)
            .await
            .map_err(|e| ChatError::Media(e.to_string()))?;
        if let Some(dir) = cache.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(&cache, &bytes);
        Ok((media, bytes))
    }
}

/// The largest file the chat keeps or shows: Meta's largest media (a 100 MB document).
pub(crate) const MAX_MEDIA_BYTES: u64 = 100 << 20;

/// A file this desktop kept (a media it sent or cached, a document's PDF), read only when it is a
/// regular file of at most [`MAX_MEDIA_BYTES`] inside one of `roots`, after resolving links: a
/// path that came from anywhere else (another desktop's event, a tampered database) reads
/// nothing, and never blocks on a FIFO or reads /dev/zero forever. Blocking: call it off the
/// async runtime. `None` when it must not or cannot be read.
pub(crate) fn read_kept(path: &Path, roots: &[PathBuf]) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let real = path.canonicalize().ok()?;
    let inside = roots.iter().any(|root| {
        root.canonicalize()
            .is_ok_and(|root| real.starts_with(&root) && real != root)
    });
    if !inside {
        tracing::warn!(path = %path.display(), "a media path outside the workspace's folders; not read");
        return None;
    }
    let meta = std::fs::metadata(&real).ok()?;
    if !meta.is_file() || meta.len() > MAX_MEDIA_BYTES {
        return None;
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(&real)
        .ok()?
        .take(MAX_MEDIA_BYTES + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    (bytes.len() as u64 <= MAX_MEDIA_BYTES).then_some(bytes)
}

/// Extensions a double click runs: a customer's file saved under one would be a program, so it
/// gets a trailing `_` (`invoice.pdf.exe` is saved as `invoice.pdf.exe_`).
const RUNNABLE: &[&str] = &[
    "exe", "com", "bat", "cmd", "scr", "pif", "msi", "msp", "ps1", "psm1", "vbs", "vbe", "js",
    "jse", "wsf", "wsh", "hta", "cpl", "jar", "lnk", "url", "reg", "sh", "bash", "zsh", "command",
    "app", "desktop", "appimage", "run", "deb", "rpm", "dmg", "pkg", "apk", "py", "pl", "rb",
];

/// Names Windows keeps for devices, whatever their extension.
const RESERVED: &[&str] = &[
    "con", "prn", "aux", "nul", "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8",
    "com9", "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
];

/// The longest file name a saved media gets, in characters.
const MAX_NAME_CHARS: usize = 120;

/// A customer's file name made safe to save: letters, digits and a few marks kept (anything
/// else, folders and control characters included, becomes `_`), no leading or trailing dot or
/// space, at most [`MAX_NAME_CHARS`] characters with its extension kept, device names prefixed,
/// runnable extensions disarmed. `None` when nothing usable is left.
pub(crate) fn safe_file_name(given: &str) -> Option<String> {
    // The last part only: a name may carry either kind of separator, whatever this system is.
    let last = given.rsplit(['/', '\\']).next().unwrap_or(given);
    let kept: String = last
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || " ._-()[]+,@&'".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let kept = kept.trim_matches(|c| c == '.' || c == ' ');
    if kept.chars().all(|c| c == '_' || c == '.' || c == ' ') {
        return None;
    }
    let (stem, ext) = match kept.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && !e.is_empty() => (s, Some(e)),
        _ => (kept, None),
    };
    let ext = ext.map(|e| {
        let e: String = e.chars().take(16).collect();
        if RUNNABLE.contains(&e.to_ascii_lowercase().as_str()) {
            format!("{e}_")
        } else {
            e
        }
    });
    let device = stem
        .split('.')
        .next()
        .unwrap_or(stem)
        .trim()
        .to_ascii_lowercase();
    let stem = if RESERVED.contains(&device.as_str()) {
        format!("_{stem}")
    } else {
        stem.to_owned()
    };
    let room = MAX_NAME_CHARS - ext.as_ref().map_or(0, |e| e.chars().count() + 1);
    let stem: String = stem.chars().take(room).collect();
    Some(match ext {
        Some(e) => format!("{stem}.{e}"),
        None => stem,
    })
}

/// The file name a saved media gets: the sender's name without any folder, or one made from the
/// message id and the MIME type.
pub(super) fn save_name(media: &MediaRef, message_id: i64) -> String {
    match media.filename.as_deref().and_then(safe_file_name) {
        Some(f) => f,
        None => {
            let ext = media
                .mime_type
                .as_deref()
                .and_then(|m| m.split(';').next())
                .and_then(|m| m.split('/').nth(1))
                .map(|e| match e {
                    "jpeg" => "jpg",
                    "mpeg" => "mp3",
                    "vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
                    "vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
                    "plain" => "txt",
                    other if other.chars().all(|c| c.is_ascii_alphanumeric()) => other,
                    _ => "bin",
                })
                .unwrap_or("bin");
            format!("whatsapp-{message_id}.{ext}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customers_file_name_is_saved_safely() {
        let safe = |n: &str| safe_file_name(n);
        assert_eq!(
            safe("Invoice 2026 (1).pdf").as_deref(),
            Some("Invoice 2026 (1).pdf")
        );
        assert_eq!(
            safe("Factură_Ștefan.pdf").as_deref(),
            Some("Factură_Ștefan.pdf")
        );
        // Folders of either kind, traversal and control characters.
        assert_eq!(safe("../../.bashrc").as_deref(), Some("bashrc"));
        assert_eq!(safe("C:\\Windows\\evil.pdf").as_deref(), Some("evil.pdf"));
        assert_eq!(safe("a\u{0}b\nc.txt").as_deref(), Some("a_b_c.txt"));
        assert_eq!(safe("a<b>:\"|?*.txt").as_deref(), Some("a_b______.txt"));
        // Runnable extensions disarmed, device names kept away.
        assert_eq!(safe("invoice.pdf.exe").as_deref(), Some("invoice.pdf.exe_"));
        assert_eq!(safe("run.SH").as_deref(), Some("run.SH_"));
        assert_eq!(safe("CON").as_deref(), Some("_CON"));
        assert_eq!(safe("nul.txt").as_deref(), Some("_nul.txt"));
        // Long names are cut, their extension kept.
        let long = safe(&format!("{}.pdf", "x".repeat(500))).unwrap();
        assert_eq!(long.chars().count(), MAX_NAME_CHARS);
        assert!(long.ends_with("x.pdf"));
        // Nothing usable: the caller makes a name.
        assert_eq!(safe("..."), None);
        assert_eq!(safe("///"), None);
        assert_eq!(safe(""), None);
    }

    #[test]
    fn only_regular_files_inside_the_workspace_folders_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("media");
        std::fs::create_dir_all(root.join("sent")).unwrap();
        let kept = root.join("sent").join("a.jpg");
        std::fs::write(&kept, b"jpeg").unwrap();
        let roots = [root.clone()];
        assert_eq!(read_kept(&kept, &roots).as_deref(), Some(&b"jpeg"[..]));

        // Outside the folders: another file of the user's, a device, a way out through "..".
        let outside = dir.path().join("private.txt");
        std::fs::write(&outside, b"private").unwrap();
        assert_eq!(read_kept(&outside, &roots), None);
        assert_eq!(read_kept(Path::new("/dev/zero"), &roots), None);
        assert_eq!(
            read_kept(&root.join("sent/../../private.txt"), &roots),
            None
        );
        // A link inside that leads outside.
        let link = root.join("sent").join("link.jpg");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        assert_eq!(read_kept(&link, &roots), None);
        // A FIFO inside is not a regular file: refused at once instead of blocking forever.
        let fifo = root.join("sent").join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        assert_eq!(read_kept(&fifo, &roots), None);
        // The folder itself is not a file in it.
        assert_eq!(read_kept(&root, &roots), None);
    }
}
