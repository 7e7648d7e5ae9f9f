//! The portal's embedded assets (placeholder until the stylesheet and scripts land).

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// The URL of an asset.
pub(crate) fn url(name: &str) -> &'static str {
    match name {
        "portal.css" => "/portal/static/portal.css",
        "portal.js" => "/portal/static/portal.js",
        "htmx.min.js" => "/portal/static/htmx.min.js",
        "uPlot.iife.min.js" => "/portal/static/uPlot.iife.min.js",
        "uPlot.min.css" => "/portal/static/uPlot.min.css",
        _ => panic!("no asset named {name}"),
    }
}

pub async fn serve(Path(_file): Path<String>) -> Response {
    StatusCode::NOT_FOUND.into_response()
}
