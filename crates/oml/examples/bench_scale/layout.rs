//! Which campaign runs on which simulated server, with which queue and how
//! many of the server's agents (pure). Campaign `j` runs on server
//! `j % servers`; a server's agents are split evenly over its campaigns'
//! queues, and its answered calls reach the campaign's queue through the
//! campaign's own delivery context.

/// One `oml pbxsim` process and what runs on it.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerPlan {
    pub name: String,
    pub campaigns: Vec<CampaignPlan>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CampaignPlan {
    pub name: String,
    /// The Originate's context, routed to `queue` by pbxsim.
    pub context: String,
    pub queue: String,
    pub agents: usize,
}

/// `agents` in all, spread over `servers` and `campaigns`.
pub fn layout(servers: usize, campaigns: usize, agents: usize) -> Result<Vec<ServerPlan>, String> {
    if servers == 0 || campaigns < servers {
        return Err(format!(
            "--campaigns {campaigns} must be at least --servers {servers} (each server needs a campaign)"
        ));
    }
    if agents < campaigns {
        return Err(format!(
            "--agents {agents} must be at least --campaigns {campaigns} (each campaign needs an agent)"
        ));
    }
    let mut plans: Vec<ServerPlan> = (0..servers)
        .map(|i| ServerPlan {
            name: format!("sim{:02}", i + 1),
            campaigns: Vec::new(),
        })
        .collect();
    for j in 0..campaigns {
        plans[j % servers].campaigns.push(CampaignPlan {
            name: format!("scale{:03}", j + 1),
            context: format!("camp-{:03}", j + 1),
            queue: format!("q-{:03}", j + 1),
            agents: 0,
        });
    }
    for (i, p) in plans.iter_mut().enumerate() {
        let on_server = agents / servers + usize::from(i < agents % servers);
        let k = p.campaigns.len();
        for (n, c) in p.campaigns.iter_mut().enumerate() {
            c.agents = on_server / k + usize::from(n < on_server % k);
        }
    }
    Ok(plans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_agent_and_campaign_has_one_place() {
        let l = layout(20, 50, 2000).unwrap();
        assert_eq!(l.len(), 20);
        let agents: usize = l.iter().flat_map(|s| &s.campaigns).map(|c| c.agents).sum();
        assert_eq!(agents, 2000);
        let camps: Vec<&str> = l
            .iter()
            .flat_map(|s| &s.campaigns)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(camps.len(), 50);
        assert_eq!(l[0].campaigns.len(), 3);
        assert_eq!(l[19].campaigns.len(), 2);
        assert_eq!(l[0].campaigns[0].agents, 34);
        assert_eq!(l[19].campaigns[1].agents, 50);
    }

    #[test]
    fn too_few_campaigns_or_agents_are_refused() {
        assert!(layout(20, 10, 2000).unwrap_err().contains("--campaigns"));
        assert!(layout(2, 5, 3).unwrap_err().contains("--agents"));
    }
}
