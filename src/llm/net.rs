//! The HTTP client's DNS resolver, which enforces the offline rule on every address a
//! host name resolves to (see `config::offline`).

use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::config::offline::HostPolicy;

pub struct GuardedResolver {
    pub policy: Arc<HostPolicy>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = Arc::clone(&self.policy);
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs = crate::config::offline::lookup_checked(&policy, &host).await?;
            let iter: Addrs = Box::new(addrs.into_iter());
            Ok(iter)
        })
    }
}
