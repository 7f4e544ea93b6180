//! Installing Trellis on a phone: a manifest with icons that load, a service
//! worker that keeps only the public shell (never a signed-in page or
//! anything written), and the page it shows offline.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{DEMO_PASSWORD, TestApp, browser_client, page_text};
use crate::on_both_backends;

on_both_backends!(with_demo => the_app_can_be_installed_and_keeps_no_private_page);

/// The paths the service worker stores, read from its `PRECACHE` list.
fn precached(script: &str) -> Vec<String> {
    let start = script.find("const PRECACHE = [").expect("a PRECACHE list");
    let end = start + script[start..].find("];").expect("the list's end");
    script[start..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

async fn the_app_can_be_installed_and_keeps_no_private_page(app: TestApp) {
    let anonymous = browser_client();
    // every page names the manifest, the theme colour and an icon
    let sam = app.browser_login("sam@example.com", DEMO_PASSWORD).await;
    for (client, path) in [(&anonymous, "/login"), (&sam, "/our-space")] {
        let html = page_text(client.get(app.url(path)).send().await.unwrap()).await;
        assert!(
            html.contains("<link rel=\"manifest\" href=\"/manifest.webmanifest\">"),
            "{path}"
        );
        assert!(html.contains("name=\"theme-color\""), "{path}");
        assert!(
            html.contains("<script src=\"/static/install.js\"></script>"),
            "{path}"
        );
    }

    let response = anonymous
        .get(app.url("/manifest.webmanifest"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/manifest+json")
    );
    let manifest: Value = response.json().await.unwrap();
    assert_eq!(manifest["display"], "standalone");
    assert_eq!(manifest["start_url"], "/");
    assert!(manifest["name"].is_string() && manifest["theme_color"].is_string());
    let icons = manifest["icons"].as_array().unwrap();
    let mut sizes = Vec::new();
    for icon in icons {
        let src = icon["src"].as_str().unwrap();
        let response = anonymous.get(app.url(src)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{src}");
        assert_eq!(response.headers()["content-type"], "image/png");
        let bytes = response.bytes().await.unwrap();
        assert_eq!(&bytes[1..4], b"PNG", "{src}");
        // the PNG's own width matches what the manifest says
        let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        assert_eq!(icon["sizes"], format!("{width}x{width}"), "{src}");
        sizes.push(width);
    }
    assert!(sizes.contains(&192) && sizes.contains(&512), "{sizes:?}");
    let favicon = anonymous.get(app.url("/favicon.ico")).send().await.unwrap();
    assert_eq!(favicon.status(), StatusCode::OK);

    // the service worker stores only public, static things
    let response = anonymous.get(app.url("/sw.js")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    let script = response.text().await.unwrap();
    let kept = precached(&script);
    assert!(kept.contains(&"/offline".to_owned()), "{kept:?}");
    for path in &kept {
        assert!(
            path == "/offline" || path.starts_with("/static/"),
            "the service worker would keep {path}"
        );
        let response = anonymous.get(app.url(path)).send().await.unwrap();
        assert_eq!(
            response.status(),
            StatusCode::OK,
            "{path} without signing in"
        );
    }
    // pages are never put in its cache: only the precached paths are served from it
    assert!(script.contains("request.mode === \"navigate\""));
    assert!(
        !script.contains("cache.put"),
        "no response is stored as it passes"
    );
    let offline = page_text(anonymous.get(app.url("/offline")).send().await.unwrap()).await;
    assert!(
        offline.contains("You're offline")
            && offline.contains("Nothing you wrote is kept on this device")
    );
}
