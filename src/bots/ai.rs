//! AI replies: any OpenAI-compatible endpoint (base URL, model, key in the keychain; a local
//! Ollama works), asked for a structured answer `{reply, action}`. The sandbox workspace uses the
//! sandbox's stand-in (scripted answers from the knowledge text) when none is set.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use ts_rs::TS;

use super::BotsError;
use crate::Result;
use crate::audit::{self, Change};
use crate::permissions::{Action, Resource};
use crate::screens::Screen;
use crate::secrets::SecretName;
use crate::sensitive::Sensitive;
use crate::workspace::{Ctx, Workspace, WorkspaceKind};
use crmconnect_flow::engine::AiResult;

/// How long an AI node waits for the model before its timeout branch.
pub const AI_TIMEOUT: Duration = Duration::from_secs(20);

/// Settings → AI for bots.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct AiSettings {
    /// The endpoint's base URL (`https://api.openai.com/v1`, `http://localhost:11434/v1`);
    /// empty: none set.
    pub base_url: String,
    pub model: String,
    /// Whether a key is kept in the keychain.
    pub has_key: bool,
    /// The sandbox workspace's stand-in answers while no endpoint is set.
    pub sandbox_stand_in: bool,
}

#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct AiSettingsInput {
    pub base_url: String,
    pub model: String,
    /// A new key; none keeps the stored one; an empty one removes it.
    pub key: Option<String>,
}

/// Where AI bots ask, resolved.
struct Endpoint {
    base_url: String,
    model: String,
    key: Option<Sensitive<String>>,
}

impl Ctx<'_> {
    pub async fn ai_settings(&self) -> Result<AiSettings> {
        self.actor()
            .await?
            .require(Resource::WhatsappBot, Action::View)?;
        let row = sqlx::query!("SELECT base_url, model FROM ai_settings WHERE id = 1")
            .fetch_optional(self.db())
            .await?;
        let has_key = self.ai_key().await?.is_some();
        let (base_url, model) = row.map(|r| (r.base_url, r.model)).unwrap_or_default();
        Ok(AiSettings {
            sandbox_stand_in: base_url.is_empty() && self.info().kind == WorkspaceKind::Sandbox,
            base_url,
            model,
            has_key,
        })
    }

    /// Sets the endpoint (administrators); an empty base URL removes it.
    pub async fn set_ai_settings(&self, input: AiSettingsInput) -> Result<AiSettings> {
        let actor = self.actor().await?;
        let allowed = actor.require_admin("the AI settings");
        let base_url = input.base_url.trim().trim_end_matches('/').to_string();
        let model = input.model.trim().to_string();
        if !base_url.is_empty() {
            if !(base_url.starts_with("https://") || base_url.starts_with("http://")) {
                return Err(BotsError::Invalid(format!(
                    "“{base_url}” is not a web address (https://…/v1)"
                ))
                .into());
            }
            if model.is_empty() {
                return Err(BotsError::Invalid(
                    "the model is empty (gpt-4o-mini, llama3.1…)".into(),
                )
                .into());
            }
        }
        let (b, m) = (base_url.clone(), model.clone());
        audit::perform(
            self.db(),
            &actor,
            Change::new(Screen::Settings, "settings.ai", "AI for bots"),
            allowed,
            Box::new(move |tx| {
                Box::pin(async move {
                    if b.is_empty() {
                        sqlx::query!("DELETE FROM ai_settings WHERE id = 1").execute(&mut *tx).await?;
                    } else {
                        let now = crate::now_ms();
                        sqlx::query!(
                            "INSERT INTO ai_settings (id, base_url, model, updated_at) VALUES (1, ?, ?, ?)
                             ON CONFLICT (id) DO UPDATE SET base_url = excluded.base_url, model = excluded.model, updated_at = excluded.updated_at",
                            b,
                            m,
                            now
                        )
                        .execute(&mut *tx)
                        .await?;
                    }
                    let detail = if b.is_empty() { "no endpoint".to_string() } else { format!("{b}, model {m}") };
                    Ok(((), Some(detail)))
                })
            }),
        )
        .await?;
        if let Some(key) = input.key {
            let store = self.secrets().clone();
            let slug = self.info().slug.clone();
            let key = key.trim().to_string();
            tokio::task::spawn_blocking(move || {
                if key.is_empty() {
                    store.delete(&slug, SecretName::AiKey)
                } else {
                    store.set(&slug, SecretName::AiKey, &Sensitive::new(key))
                }
            })
            .await
            .map_err(|e| BotsError::Invalid(format!("the keychain could not be reached: {e}")))?
            .map_err(crate::Error::from)?;
        }
        self.ai_settings().await
    }
}

impl Workspace {
    async fn ai_key(&self) -> Result<Option<Sensitive<String>>> {
        let store = self.secrets().clone();
        let slug = self.info().slug.clone();
        tokio::task::spawn_blocking(move || store.get(&slug, SecretName::AiKey))
            .await
            .map_err(|e| BotsError::Invalid(format!("the keychain could not be reached: {e}")))?
            .map_err(crate::Error::from)
    }

    async fn ai_endpoint(&self) -> Result<Option<Endpoint>> {
        let row = sqlx::query!("SELECT base_url, model FROM ai_settings WHERE id = 1")
            .fetch_optional(self.db())
            .await?;
        if let Some(r) = row {
            return Ok(Some(Endpoint {
                base_url: r.base_url,
                model: r.model,
                key: self.ai_key().await?,
            }));
        }
        if self.info().kind == WorkspaceKind::Sandbox
            && let Some(graph) = self.sandbox_base_url().await?
        {
            return Ok(Some(Endpoint {
                base_url: format!("{graph}/sandbox/ai/v1"),
                model: "sandbox-assistant".into(),
                key: None,
            }));
        }
        Ok(None)
    }

    /// Asks the workspace's model; the result, and what went wrong when it did not answer.
    pub(crate) async fn ask_ai(
        &self,
        system: &str,
        knowledge: &str,
        only_knowledge: bool,
        question: &str,
    ) -> (AiResult, Option<String>) {
        let endpoint = match self.ai_endpoint().await {
            Ok(Some(e)) => e,
            Ok(None) => {
                return (
                    AiResult::Error,
                    Some("no AI endpoint is set up (Settings → AI for bots)".into()),
                );
            }
            Err(e) => return (AiResult::Error, Some(e.to_string())),
        };
        let request = request_body(&endpoint.model, system, knowledge, only_knowledge, question);
        let client = match reqwest::Client::builder().timeout(AI_TIMEOUT).build() {
            Ok(c) => c,
            Err(e) => return (AiResult::Error, Some(e.to_string())),
        };
        let mut call = client
            .post(format!("{}/chat/completions", endpoint.base_url))
            .json(&request);
        if let Some(key) = &endpoint.key {
            call = call.bearer_auth(key.expose());
        }
        let response = match call.send().await {
            Ok(r) => r,
            Err(e) if e.is_timeout() => {
                return (
                    AiResult::Timeout,
                    Some(format!(
                        "the model did not answer within {} s",
                        AI_TIMEOUT.as_secs()
                    )),
                );
            }
            Err(e) => {
                return (
                    AiResult::Error,
                    Some(format!("the AI endpoint could not be reached: {e}")),
                );
            }
        };
        let status = response.status();
        let body: Value = match response.json().await {
            Ok(v) => v,
            Err(e) if e.is_timeout() => {
                return (
                    AiResult::Timeout,
                    Some("the model's answer did not arrive in time".into()),
                );
            }
            Err(e) => {
                return (
                    AiResult::Error,
                    Some(format!(
                        "the AI endpoint answered {status} with no JSON: {e}"
                    )),
                );
            }
        };
        if !status.is_success() {
            let why = body["error"]["message"]
                .as_str()
                .unwrap_or("no reason given");
            return (
                AiResult::Error,
                Some(format!("the AI endpoint refused ({status}): {why}")),
            );
        }
        parse_answer(&body)
    }
}

fn request_body(
    model: &str,
    system: &str,
    knowledge: &str,
    only_knowledge: bool,
    question: &str,
) -> Value {
    let rules = if only_knowledge {
        "Answer only from the knowledge text. When it does not hold the answer, set action to \"unanswered\"."
    } else {
        "Prefer the knowledge text; answer briefly."
    };
    let system = format!(
        "{system}\n\n{rules} When the customer asks for a person, set action to \"person\". Otherwise set action to \"answer\" and put your answer in reply.\n\n{}\n{knowledge}",
        crmconnect_sandbox::AI_KNOWLEDGE_MARK
    );
    json!({
        "model": model,
        "temperature": 0,
        "messages": [
            { "role": "system", "content": system },
            { "role": "user", "content": question }
        ],
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "bot_reply",
                "strict": true,
                "schema": {
                    "type": "object",
                    "properties": {
                        "reply": { "type": "string" },
                        "action": { "type": "string", "enum": ["answer", "person", "unanswered"] }
                    },
                    "required": ["reply", "action"],
                    "additionalProperties": false
                }
            }
        }
    })
}

/// The model's `{reply, action}` as the node's branch.
fn parse_answer(body: &Value) -> (AiResult, Option<String>) {
    let Some(content) = body["choices"][0]["message"]["content"].as_str() else {
        return (
            AiResult::Error,
            Some("the model's answer has no message".into()),
        );
    };
    let Ok(answer) = serde_json::from_str::<Value>(content) else {
        return (
            AiResult::Error,
            Some("the model did not answer in the form asked ({reply, action})".into()),
        );
    };
    let reply = answer["reply"].as_str().unwrap_or("").trim().to_string();
    match answer["action"].as_str() {
        Some("person") => (AiResult::AskedForPerson, None),
        Some("unanswered") => (AiResult::CouldNotAnswer, None),
        Some("answer") if !reply.is_empty() => (AiResult::Answered(reply), None),
        Some("answer") => (AiResult::CouldNotAnswer, None),
        _ => (
            AiResult::Error,
            Some("the model's action is not answer, person or unanswered".into()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model_says(content: &str) -> Value {
        json!({ "choices": [{ "message": { "content": content } }] })
    }

    #[test]
    fn the_models_answer_picks_the_branch() {
        assert_eq!(
            parse_answer(&model_says(
                r#"{"reply":"We open at 9.","action":"answer"}"#
            ))
            .0,
            AiResult::Answered("We open at 9.".into())
        );
        assert_eq!(
            parse_answer(&model_says(r#"{"reply":"","action":"person"}"#)).0,
            AiResult::AskedForPerson
        );
        assert_eq!(
            parse_answer(&model_says(r#"{"reply":"","action":"unanswered"}"#)).0,
            AiResult::CouldNotAnswer
        );
        assert_eq!(
            parse_answer(&model_says("Sure! We open at 9.")).0,
            AiResult::Error
        );
        assert_eq!(parse_answer(&json!({})).0, AiResult::Error);
    }

    #[test]
    fn the_request_asks_for_the_structured_form() {
        let body = request_body("m", "Be kind.", "We open at 9.", true, "When do you open?");
        assert_eq!(
            body["response_format"]["json_schema"]["schema"]["required"],
            json!(["reply", "action"])
        );
        let system = body["messages"][0]["content"].as_str().unwrap();
        assert!(
            system.ends_with("Knowledge text:\nWe open at 9."),
            "{system}"
        );
        assert!(system.contains("Answer only from the knowledge text"));
    }
}
