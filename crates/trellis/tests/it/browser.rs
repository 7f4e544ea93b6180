//! Browser journeys in real Chromium, driven through ChromeDriver, with
//! axe-core checking each page for serious accessibility problems.
//! Skipped (with a notice) where Chromium is not installed, unless
//! `TRELLIS_REQUIRE_BROWSER` is set, as in CI.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use crate::helpers::{Backend, DEMO_PASSWORD, TestApp, skip_notice};

/// A ChromeDriver process, stopped when dropped.
struct ChromeDriver {
    child: Child,
    port: u16,
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_program(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

fn browser_required() -> bool {
    std::env::var_os("TRELLIS_REQUIRE_BROWSER").is_some()
}

async fn start_chromedriver() -> Option<ChromeDriver> {
    let Some(driver) = find_program("chromedriver") else {
        assert!(
            !browser_required(),
            "TRELLIS_REQUIRE_BROWSER is set but chromedriver is not on the PATH"
        );
        skip_notice("browser journey (install chromium and chromium-driver to run it)");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(driver)
        .arg(format!("--port={port}"))
        .arg("--allowed-ips=127.0.0.1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let driver = ChromeDriver { child, port };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start listening on port {port}");
}

async fn open_browser(driver: &ChromeDriver, profile: &std::path::Path) -> Client {
    let chromium = find_program("chromium").or_else(|| find_program("chromium-browser"));
    let mut options = json!({
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--window-size=1100,900",
            format!("--user-data-dir={}", profile.display()),
        ]
    });
    if let Some(binary) = chromium {
        options["binary"] = json!(binary);
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("goog:chromeOptions".to_owned(), options);
    // ChromeDriver is on loopback: plain HTTP, no TLS stack needed.
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap()
}

/// axe-core's serious and critical WCAG 2.1 A/AA violations on the current page.
async fn accessibility_violations(browser: &Client) -> Option<Vec<String>> {
    let Some(path) = std::env::var_os("TRELLIS_AXE_JS") else {
        assert!(
            !browser_required(),
            "TRELLIS_REQUIRE_BROWSER is set but TRELLIS_AXE_JS is not"
        );
        skip_notice("accessibility check (set TRELLIS_AXE_JS to axe.min.js from npm axe-core)");
        return None;
    };
    let source =
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("cannot read {path:?}: {err}"));
    browser.execute(&source, vec![]).await.unwrap();
    let result = browser
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
                 .then(r => done(r.violations
                   .filter(v => v.impact === 'serious' || v.impact === 'critical')
                   .map(v => v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', '))))
                 .catch(e => done(['axe failed: ' + e]));"#,
            vec![],
        )
        .await
        .unwrap();
    Some(serde_json::from_value(result).unwrap())
}

async fn assert_accessible(browser: &Client, page: &str) {
    if let Some(violations) = accessibility_violations(browser).await {
        assert!(
            violations.is_empty(),
            "accessibility problems on {page}: {violations:#?}"
        );
    }
}

async fn sign_in(browser: &Client, app: &TestApp, email: &str) {
    browser.goto(&app.url("/login")).await.unwrap();
    browser
        .find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    browser
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(DEMO_PASSWORD)
        .await
        .unwrap();
    browser
        .find(Locator::Css("main button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

async fn wait_for_path(browser: &Client, path: &str) {
    for _ in 0..50 {
        if browser.current_url().await.unwrap().path() == path {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the browser did not reach {path}; it is at {}",
        browser.current_url().await.unwrap()
    );
}

/// Saves a screenshot when `TRELLIS_SCREENSHOT_DIR` is set (the README's picture comes from here).
async fn maybe_screenshot(browser: &Client, name: &str) {
    if let Some(dir) = std::env::var_os("TRELLIS_SCREENSHOT_DIR") {
        let png = browser.screenshot().await.unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(PathBuf::from(dir).join(name), png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn therapist_sees_the_caseload_and_a_partner_their_home() {
    let Some(driver) = start_chromedriver().await else {
        return;
    };
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    let profile = tempfile::tempdir().unwrap();
    let browser = open_browser(&driver, profile.path()).await;

    browser.goto(&app.url("/")).await.unwrap();
    assert_accessible(&browser, "the start page").await;
    browser.goto(&app.url("/login")).await.unwrap();
    assert_accessible(&browser, "the sign-in page").await;

    sign_in(&browser, &app, "therapist@example.com").await;
    wait_for_path(&browser, "/caseload").await;
    let caseload = browser
        .find(Locator::Css("main table"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(caseload.contains("Alex & Sam"), "{caseload}");
    assert!(caseload.contains("Casey & Drew"), "{caseload}");
    assert_accessible(&browser, "the caseload").await;
    maybe_screenshot(&browser, "caseload.png").await;

    browser
        .find(Locator::Css("header form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(&browser, "/").await;

    sign_in(&browser, &app, "alex@example.com").await;
    wait_for_path(&browser, "/our-space").await;
    let heading = browser
        .find(Locator::Css("main h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(heading, "Our space");
    let lead = browser
        .find(Locator::Css("main p.lead"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(lead.contains("Sam"), "{lead}");
    assert_accessible(&browser, "our space").await;
    maybe_screenshot(&browser, "our-space.png").await;

    // Write a private journal entry; the page says who can see it.
    browser.goto(&app.url("/journal")).await.unwrap();
    assert_accessible(&browser, "the journal").await;
    browser
        .find(Locator::Id("body"))
        .await
        .unwrap()
        .send_keys("I want us to try again.")
        .await
        .unwrap();
    browser
        .find(Locator::Css("form.card button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let entry = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("article.entry"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        entry.contains("I want us to try again.") && entry.contains("Only you can see this."),
        "{entry}"
    );
    assert_accessible(&browser, "the journal with an entry").await;
    browser.goto(&app.url("/account")).await.unwrap();
    assert_accessible(&browser, "the account page").await;

    browser.close().await.unwrap();
}
