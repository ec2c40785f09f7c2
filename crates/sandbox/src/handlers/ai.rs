//! An OpenAI-compatible chat completion endpoint with scripted answers
//! (`POST /sandbox/ai/v1/chat/completions`), so that the sandbox workspace and the tests run AI
//! bots without a model or a key. It answers in the structured form the bots ask for,
//! `{"reply", "action"}`: asked for a person, it says so; otherwise it answers with the sentence
//! of the knowledge text that shares the most words with the question, or says it cannot answer.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Where the knowledge text starts in the system message (what the bots' client writes).
pub const KNOWLEDGE_MARK: &str = "Knowledge text:";

pub(crate) async fn completions(Json(req): Json<Value>) -> Response {
    let Some(model) = req["model"].as_str().filter(|m| !m.is_empty()) else {
        return invalid("you must provide a model parameter");
    };
    let Some(messages) = req["messages"].as_array().filter(|m| !m.is_empty()) else {
        return invalid("messages: a non-empty array is required");
    };
    let text = |role: &str| -> Vec<String> {
        messages
            .iter()
            .filter(|m| m["role"] == role)
            .filter_map(|m| m["content"].as_str().map(str::to_owned))
            .collect()
    };
    let system = text("system").join("\n");
    let Some(question) = text("user").pop() else {
        return invalid("messages: no user message");
    };
    let knowledge = system
        .split_once(KNOWLEDGE_MARK)
        .map(|(_, k)| k)
        .unwrap_or("");
    let answer = answer(&question, knowledge);
    Json(json!({
        "id": format!("chatcmpl-sandbox-{}", question.len()),
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": answer.to_string() },
            "finish_reason": "stop"
        }],
        "usage": { "prompt_tokens": system.len() / 4, "completion_tokens": 20, "total_tokens": system.len() / 4 + 20 }
    }))
    .into_response()
}

fn invalid(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": { "message": message, "type": "invalid_request_error" } })),
    )
        .into_response()
}

/// The scripted answer to `question` from `knowledge`.
pub fn answer(question: &str, knowledge: &str) -> Value {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.chars().count() >= 4)
            .map(str::to_lowercase)
            .collect()
    };
    let asked = words(question);
    if asked
        .iter()
        .any(|w| ["person", "human", "agent", "someone", "representative"].contains(&w.as_str()))
    {
        return json!({ "reply": "", "action": "person" });
    }
    let best = knowledge
        .split_inclusive(['.', '!', '?', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| (words(s).iter().filter(|w| asked.contains(w)).count(), s))
        .filter(|(score, _)| *score > 0)
        .max_by_key(|(score, _)| *score);
    match best {
        Some((_, sentence)) => json!({ "reply": sentence, "action": "answer" }),
        None => json!({ "reply": "", "action": "unanswered" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_from_the_knowledge_text_or_says_it_cannot() {
        let k = "We open at 9 and close at 18. Roof checks cost 80 euros. Gutters are cleaned in spring.";
        assert_eq!(
            answer("How much does a roof check cost?", k),
            json!({ "reply": "Roof checks cost 80 euros.", "action": "answer" })
        );
        assert_eq!(
            answer("Can I talk to a person?", k),
            json!({ "reply": "", "action": "person" })
        );
        assert_eq!(
            answer("Do you sell bikes?", k),
            json!({ "reply": "", "action": "unanswered" })
        );
    }
}
