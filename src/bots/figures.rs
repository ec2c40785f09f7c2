//! Per-node figures of a bot, from the sessions this replica ran (the automation replica: the
//! runner, or the desktop that holds the lease): how often each node was entered, how many
//! sessions wait there now, how many timed out or were handed off there, how many messages it
//! sent. And, before publishing, the live sessions waiting at nodes the draft no longer has.

use std::collections::HashMap;

use serde::Serialize;
use ts_rs::TS;

use super::shared;
use crate::Result;
use crate::permissions::{Action, Resource};
use crate::workspace::Ctx;
use crmconnect_flow::engine::{End, Session, State};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct NodeFigures {
    /// The node's id in the flow.
    pub node: String,
    pub visits: i64,
    /// Live sessions waiting at it now.
    pub waiting: i64,
    pub timeouts: i64,
    pub handoffs: i64,
    pub messages: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct BotFiguresByNode {
    /// The published version the figures are of (0: none).
    pub version: i64,
    pub sessions: i64,
    pub nodes: Vec<NodeFigures>,
    /// Live sessions (of any version) waiting at a node the draft no longer has, by node id:
    /// they finish on the version they started with.
    pub stranded: Vec<Stranded>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct Stranded {
    pub node: String,
    pub version: i64,
    pub sessions: i64,
}

/// A version's node ids by index.
async fn node_ids(
    conn: &mut sqlx::SqliteConnection,
    uid: &str,
    version: i64,
) -> Result<Vec<String>> {
    let flow = sqlx::query_scalar!(
        "SELECT flow FROM bot_versions WHERE bot_uid = ? AND version = ?",
        uid,
        version
    )
    .fetch_optional(&mut *conn)
    .await?;
    Ok(flow
        .and_then(|f| serde_json::from_str::<crmconnect_flow::Flow>(&f).ok())
        .map(|f| f.nodes.into_iter().map(|n| n.id).collect())
        .unwrap_or_default())
}

impl Ctx<'_> {
    pub async fn bot_figures_by_node(&self, id: i64) -> Result<BotFiguresByNode> {
        self.actor()
            .await?
            .require(Resource::WhatsappBot, Action::View)?;
        let mut conn = self.db().acquire().await?;
        let bot = shared::load(&mut conn, id).await?.state;
        let ids = node_ids(&mut conn, &bot.uid, bot.version).await?;
        let mut figures: Vec<NodeFigures> = ids
            .iter()
            .map(|n| NodeFigures {
                node: n.clone(),
                visits: 0,
                waiting: 0,
                timeouts: 0,
                handoffs: 0,
                messages: 0,
            })
            .collect();
        let rows = sqlx::query!(
            "SELECT version, state, ended FROM bot_sessions WHERE bot_uid = ?",
            bot.uid
        )
        .fetch_all(&mut *conn)
        .await?;
        let draft_ids: Vec<String> = crmconnect_flow::drawflow::import(&bot.draft)
            .map(|f| f.nodes.into_iter().map(|n| n.id).collect())
            .unwrap_or_default();
        let mut versions: HashMap<i64, Vec<String>> = HashMap::new();
        let mut stranded: HashMap<(String, i64), i64> = HashMap::new();
        let mut sessions = 0;
        for r in rows {
            let Ok(s) = serde_json::from_str::<Session>(&r.state) else {
                continue;
            };
            let at = s.at as usize;
            if r.ended.is_none() && !matches!(s.state, State::New | State::Ended { .. }) {
                if let std::collections::hash_map::Entry::Vacant(slot) = versions.entry(r.version) {
                    slot.insert(node_ids(&mut conn, &bot.uid, r.version).await?);
                }
                if let Some(node) = versions[&r.version].get(at)
                    && !draft_ids.contains(node)
                {
                    *stranded.entry((node.clone(), r.version)).or_default() += 1;
                }
            }
            if r.version != bot.version {
                continue;
            }
            sessions += 1;
            for (i, v) in s.visits.iter().enumerate() {
                if let Some(f) = figures.get_mut(i) {
                    f.visits += i64::from(*v);
                }
            }
            let Some(f) = figures.get_mut(at) else {
                continue;
            };
            match r
                .ended
                .as_deref()
                .and_then(|e| serde_json::from_str::<End>(e).ok())
            {
                None => f.waiting += 1,
                Some(End::TimedOut) => f.timeouts += 1,
                Some(End::HandedOff) => f.handoffs += 1,
                Some(_) => {}
            }
        }
        let sent = sqlx::query!(
            r#"SELECT s.node AS "node!", count(*) AS "n!: i64" FROM bot_sends s JOIN bot_sessions b ON b.id = s.session_id
               WHERE b.bot_uid = ? AND b.version = ? GROUP BY s.node"#,
            bot.uid,
            bot.version
        )
        .fetch_all(&mut *conn)
        .await?;
        for row in sent {
            if let Some(f) = figures.get_mut(row.node as usize) {
                f.messages += row.n;
            }
        }
        let mut stranded: Vec<Stranded> = stranded
            .into_iter()
            .map(|((node, version), sessions)| Stranded {
                node,
                version,
                sessions,
            })
            .collect();
        stranded.sort_by(|a, b| (a.version, &a.node).cmp(&(b.version, &b.node)));
        Ok(BotFiguresByNode {
            version: bot.version,
            sessions,
            nodes: figures,
            stranded,
        })
    }
}
