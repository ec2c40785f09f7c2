//! `{{variables}}` in a node's text: the session's variables first, then the contact's and lead's
//! fields. A name that is neither becomes empty text, never the braces themselves.

/// A valid variable name: a letter or `_`, then letters, digits, `_` (64 at most).
pub fn is_var_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Replaces each `{{name}}` (spaces inside the braces allowed) with `lookup(name)`.
pub fn render(template: &str, mut lookup: impl FnMut(&str) -> Option<String>) -> String {
    if !template.contains("{{") {
        return template.to_string();
    }
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        out.push_str(&rest[..open]);
        let after = &rest[open + 2..];
        match after.find("}}") {
            Some(close) => {
                let name = after[..close].trim();
                if let Some(value) = lookup(name) {
                    out.push_str(&value);
                }
                rest = &after[close + 2..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The names a template uses, in order of first use.
pub fn names(template: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let after = &rest[open + 2..];
        let Some(close) = after.find("}}") else { break };
        let name = after[..close].trim();
        if !found.contains(&name) {
            found.push(name);
        }
        rest = &after[close + 2..];
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "first_name" => Some("Ana".into()),
            "order" => Some("#42".into()),
            _ => None,
        }
    }

    #[test]
    fn fills_known_names_and_empties_unknown_ones() {
        assert_eq!(
            render("Hi {{first_name}}, order {{ order }}.", vars),
            "Hi Ana, order #42."
        );
        assert_eq!(render("Hi {{nobody}}!", vars), "Hi !");
        assert_eq!(render("no braces", vars), "no braces");
        assert_eq!(render("open {{first_name", vars), "open {{first_name");
        assert_eq!(names("{{a}} {{ b }} {{a}}"), vec!["a", "b"]);
    }

    #[test]
    fn var_names() {
        assert!(is_var_name("first_name"));
        assert!(is_var_name("_x1"));
        assert!(!is_var_name("1x"));
        assert!(!is_var_name("a-b"));
        assert!(!is_var_name(""));
    }
}
