//! What one probe of the model server saw.

use std::time::Duration;

use jaryo_model::ModelError;

/// The result of one `GET {base}/models` probe.
#[derive(Debug, Clone)]
pub struct Health {
    pub up: bool,
    /// The base URL that was probed (without credentials).
    pub endpoint: String,
    pub latency: Duration,
    /// Models the server lists.
    pub models: Vec<String>,
    /// Whether the configured model is among them; `None` if the server listed none.
    pub model_listed: Option<bool>,
    pub error: Option<ModelError>,
}
