//! The signals the daemon obeys: SIGHUP reloads the configuration, SIGTERM and SIGINT stop
//! it. Also the readiness, reload and stop notices sent to systemd (a no-op outside it).

use sd_notify::NotifyState;
use tokio::signal::unix::{signal, Signal, SignalKind};

/// What an arrived signal asks of the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalTo {
    /// Re-read the configuration (SIGHUP).
    Reload,
    /// Stop serving and exit; holds the signal's name for the log.
    Shutdown(&'static str),
}

/// The daemon's signal handlers, installed once at start.
pub struct Signals {
    hangup: Signal,
    terminate: Signal,
    interrupt: Signal,
}

impl Signals {
    /// Installs the handlers for SIGHUP, SIGTERM and SIGINT.
    ///
    /// # Errors
    ///
    /// When the runtime cannot register a handler (it has no signal driver).
    pub fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            hangup: signal(SignalKind::hangup())?,
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for the next signal.
    pub async fn next(&mut self) -> SignalTo {
        tokio::select! {
            _ = self.hangup.recv() => SignalTo::Reload,
            _ = self.terminate.recv() => SignalTo::Shutdown("SIGTERM"),
            _ = self.interrupt.recv() => SignalTo::Shutdown("SIGINT"),
        }
    }
}

/// Tells systemd the service is listening (`READY=1`), with a status line.
pub fn notify_ready(status: &str) {
    notify(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// Tells systemd a reload has started; [`notify_ready`] ends it.
pub fn notify_reloading() {
    let mut states = vec![NotifyState::Reloading];
    // systemd 253+ wants the reload's start time to tell this reload from an older one.
    if let Ok(now) = NotifyState::monotonic_usec_now() {
        states.push(now);
    }
    notify(&states);
}

/// Tells systemd the service is stopping.
pub fn notify_stopping() {
    notify(&[NotifyState::Stopping]);
}

fn notify(states: &[NotifyState]) {
    if let Err(err) = sd_notify::notify(false, states) {
        tracing::debug!(error = %err, "Cannot notify systemd");
    }
}
