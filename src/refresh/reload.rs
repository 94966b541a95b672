//! Swapping in a configuration re-read on SIGHUP: everything but the listen address
//! changes at once; an invalid one is logged, reported in self-metrics and ignored.

use std::sync::Arc;

use jiff::Timestamp;

use super::{unix_seconds, Refresher};
use crate::config::{Config, ConfigError};
use crate::source::SalesSource;

impl Refresher {
    /// Applies a re-read configuration, or records why it could not be read. Returns
    /// whether the new configuration is now the running one.
    pub async fn reload(&mut self, outcome: Result<Config, ConfigError>) -> bool {
        let swapped = match outcome {
            Ok(config) => self.swap(config).await,
            Err(err) => Err(err.to_string()),
        };
        let reloaded = swapped.is_ok();
        match swapped {
            Ok(()) => {
                self.metrics.reload_success.set(1.0);
                (self.metrics.reload_timestamp).set(unix_seconds(Timestamp::now()));
                tracing::info!(
                    database = self.config.database.dialect.name(),
                    refresh_interval_secs = self.config.refresh_interval.as_secs(),
                    "Reloaded the configuration"
                );
            }
            Err(reason) => {
                self.metrics.reload_success.set(0.0);
                tracing::error!(
                    error = %reason,
                    "Cannot reload the configuration; fix it and reload again (the running one stays)"
                );
            }
        }
        self.publish(None, None);
        reloaded
    }

    /// Makes `config` the running configuration, with a new connection pool.
    async fn swap(&mut self, mut config: Config) -> Result<(), String> {
        let listening = self.config.listen_address;
        if config.listen_address != listening {
            tracing::warn!(
                listen_address = %listening,
                configured = %config.listen_address,
                "The listen address changes only on restart; still serving on the old one"
            );
            config.listen_address = listening;
        }
        let source = SalesSource::connect_lazy(&config.database)
            .map_err(|err| format!("cannot prepare the database connection: {err}"))?;

        let previous = std::mem::replace(&mut self.source, source);
        previous.close().await;
        self.metrics.describe_config(&config);
        self.backoff.set_cap(config.refresh_interval);
        self.config = Arc::new(config);
        Ok(())
    }
}
