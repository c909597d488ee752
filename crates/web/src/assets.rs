//! Static assets compiled into the binary: the stylesheet and the self-hosted Vazirmatn font.
//! Served with a strong ETag and a day of caching; the stylesheet's URL carries its hash, so a new
//! release is fetched at once.

use std::hash::{DefaultHasher, Hasher};
use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::WebError;

pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
}

pub const ASSETS: [Asset; 7] = [
    Asset {
        path: "app.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../assets/app.css"),
    },
    Asset {
        path: "fonts/Vazirmatn-Regular.woff2",
        content_type: "font/woff2",
        bytes: include_bytes!("../assets/fonts/Vazirmatn-Regular.woff2"),
    },
    Asset {
        path: "fonts/Vazirmatn-Bold.woff2",
        content_type: "font/woff2",
        bytes: include_bytes!("../assets/fonts/Vazirmatn-Bold.woff2"),
    },
    Asset {
        path: "suggest.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/suggest.js"),
    },
    Asset {
        path: "files.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/files.js"),
    },
    Asset {
        path: "rows.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/rows.js"),
    },
    Asset {
        path: "fonts/OFL.txt",
        content_type: "text/plain; charset=utf-8",
        bytes: include_bytes!("../assets/fonts/OFL.txt"),
    },
];

fn hashes() -> &'static [String] {
    static HASHES: OnceLock<Vec<String>> = OnceLock::new();
    HASHES.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let mut hasher = DefaultHasher::new();
                hasher.write(asset.bytes);
                format!("{:016x}", hasher.finish())
            })
            .collect()
    })
}

/// The stylesheet's URL, with its content hash so caches never serve an old one.
pub fn stylesheet_href() -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| {
        let hash = hashes().first().map_or("", |h| &h[..12]);
        format!("/static/app.css?v={hash}")
    })
}

/// `GET /static/{*path}`
pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Result<Response, WebError> {
    let Some((index, asset)) = ASSETS.iter().enumerate().find(|(_, a)| a.path == path) else {
        return Err(WebError::NotFound);
    };
    let etag = hashes()
        .get(index)
        .map(|h| format!("\"{h}\""))
        .unwrap_or_default();
    let etag_value = HeaderValue::from_str(&etag)?;
    let cache = HeaderValue::from_static("public, max-age=86400");
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag));
    if fresh {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value), (header::CACHE_CONTROL, cache)],
        )
            .into_response());
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::ETAG, etag_value),
            (header::CACHE_CONTROL, cache),
        ],
        asset.bytes,
    )
        .into_response())
}
