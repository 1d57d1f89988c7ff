//! Who leads which campaign and why, as `oml dialer status`, the console
//! and the API show it: read from the live lease rows (each node's row
//! holds its capacity, each campaign's row its leader and the reason the
//! leader wrote), with the outcomes each node still keeps in its journal.
//! `of` and `text` are pure.

use std::collections::HashMap;
use std::fmt::Write;

use oml_store::{LeaseRow, Store};
use serde::{Deserialize, Serialize};

/// The nodes and the campaigns they lead.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sharing {
    pub nodes: Vec<NodeShare>,
    pub campaigns: Vec<CampaignLead>,
}

/// One live node.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NodeShare {
    pub name: String,
    /// Its weight in the assignment.
    pub capacity: u32,
    /// The campaigns it leads, by name.
    pub campaigns: Vec<String>,
}

/// One led campaign.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignLead {
    pub campaign: String,
    pub node: String,
    /// Assigned by weight, only live node, runner-up because...
    pub reason: String,
}

/// The view of `rows`, campaigns named by `names` (id -> name).
pub fn of(rows: &[LeaseRow], names: &HashMap<i64, String>) -> Sharing {
    let mut s = Sharing::default();
    for r in rows {
        if let (Some(name), Some(capacity)) = (r.node_name(), r.capacity) {
            s.nodes.push(NodeShare {
                name: name.to_owned(),
                capacity,
                campaigns: Vec::new(),
            });
        }
    }
    for r in rows {
        let Some(id) = r.campaign() else { continue };
        let campaign = names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
        if let Some(n) = s.nodes.iter_mut().find(|n| n.name == r.node) {
            n.campaigns.push(campaign.clone());
        }
        s.campaigns.push(CampaignLead {
            campaign,
            node: r.node.clone(),
            reason: r.reason.clone().unwrap_or_default(),
        });
    }
    s.nodes.sort_by(|a, b| a.name.cmp(&b.name));
    for n in &mut s.nodes {
        n.campaigns.sort();
    }
    s.campaigns.sort_by(|a, b| a.campaign.cmp(&b.campaign));
    s
}

/// Reads the view from the database.
pub async fn read(store: &Store) -> oml_store::Result<Sharing> {
    let rows = store.live_leases().await?;
    let names = store
        .campaigns()
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    Ok(of(&rows, &names))
}

/// The two tables `oml dialer status` prints.
pub fn text(s: &Sharing) -> String {
    let mut w = String::new();
    if s.nodes.is_empty() {
        return w;
    }
    let _ = writeln!(w, "{:<16} {:>8}  CAMPAIGNS", "NODE", "CAPACITY");
    for n in &s.nodes {
        let _ = writeln!(
            w,
            "{:<16} {:>8}  {}",
            n.name,
            n.capacity,
            if n.campaigns.is_empty() {
                "-".to_string()
            } else {
                n.campaigns.join(", ")
            }
        );
    }
    if !s.campaigns.is_empty() {
        w.push('\n');
        let _ = writeln!(w, "{:<16} {:<16} WHY", "CAMPAIGN", "LED BY");
        for c in &s.campaigns {
            let _ = writeln!(w, "{:<16} {:<16} {}", c.campaign, c.node, c.reason);
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_with_their_campaigns_and_each_campaigns_reason() {
        let s = Sharing {
            nodes: vec![
                NodeShare {
                    name: "node-1".into(),
                    capacity: 100,
                    campaigns: vec!["sales".into(), "promo".into()],
                },
                NodeShare {
                    name: "node-2".into(),
                    capacity: 50,
                    campaigns: vec![],
                },
            ],
            campaigns: vec![CampaignLead {
                campaign: "sales".into(),
                node: "node-1".into(),
                reason: "only live node".into(),
            }],
        };
        let t = text(&s);
        assert_eq!(
            t,
            "NODE             CAPACITY  CAMPAIGNS\n\
             node-1                100  sales, promo\n\
             node-2                 50  -\n\
             \n\
             CAMPAIGN         LED BY           WHY\n\
             sales            node-1           only live node\n"
        );
        assert_eq!(text(&Sharing::default()), "");
    }
}
