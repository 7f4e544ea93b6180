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
    open_browser_sized(driver, profile, None).await
}

/// A browser that shows pages as a 390 × 844 phone does (touch, its own
/// viewport width), for the phone journeys.
async fn open_phone(driver: &ChromeDriver, profile: &std::path::Path) -> Client {
    open_browser_sized(
        driver,
        profile,
        Some(json!({"deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2.0, "touch": true}})),
    )
    .await
}

async fn open_browser_sized(
    driver: &ChromeDriver,
    profile: &std::path::Path,
    mobile: Option<serde_json::Value>,
) -> Client {
    let chromium = find_program("chromium").or_else(|| find_program("chromium-browser"));
    let mut options = json!({
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--window-size=1280,900",
            format!("--user-data-dir={}", profile.display()),
        ]
    });
    if let Some(binary) = chromium {
        options["binary"] = json!(binary);
    }
    if let Some(mobile) = mobile {
        options["mobileEmulation"] = mobile;
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

    // Installable: the service worker registers, and after a signed-in page
    // its cache holds only the public shell.
    let kept = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             navigator.serviceWorker.ready
               .then(() => caches.keys())
               .then((names) => Promise.all(names.map((n) => caches.open(n).then((c) => c.keys()))))
               .then((lists) => done(lists.flat().map((r) => new URL(r.url).pathname)))
               .catch((e) => done(['error: ' + e]));",
            vec![],
        )
        .await
        .unwrap();
    let kept: Vec<String> = serde_json::from_value(kept).unwrap();
    assert!(kept.contains(&"/offline".to_owned()), "{kept:?}");
    assert!(
        kept.iter()
            .all(|p| p == "/offline" || p.starts_with("/static/")),
        "the service worker keeps {kept:?}"
    );

    // Chromium's own installability check finds nothing missing.
    let errors = chromium_installability_errors(&browser).await;
    assert!(
        errors.is_empty(),
        "Chromium would not install Trellis: {errors:?}"
    );
    // the check can fail: a page without the manifest is not installable
    browser.goto(&app.url("/healthz")).await.unwrap();
    let errors = chromium_installability_errors(&browser).await;
    assert!(
        !errors.is_empty(),
        "a bare page passed the installability check"
    );
    browser.goto(&app.url("/our-space")).await.unwrap();

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
    browser.goto(&app.url("/promises")).await.unwrap();
    assert_accessible(&browser, "promises and agreements").await;
    browser
        .find(Locator::Id("promise-text"))
        .await
        .unwrap()
        .send_keys("I'll text you when I leave work")
        .await
        .unwrap();
    browser
        .find(Locator::Css("form[action='/promises'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&browser, "Your promise is made").await;
    browser
        .find(Locator::Css("form[action$='/kept'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&browser, "Kept today").await;
    assert_accessible(&browser, "promises with a kept promise").await;

    browser.close().await.unwrap();
}

async fn click(browser: &Client, css: &str) {
    browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|err| panic!("no {css}: {err}"))
        .click()
        .await
        .unwrap();
}

async fn type_into(browser: &Client, css: &str, text: &str) {
    let found = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await;
    match found {
        Ok(element) => element.send_keys(text).await.unwrap(),
        Err(err) => panic!(
            "no {css} ({err}) on {}:\n{}",
            browser.current_url().await.unwrap(),
            main_text(browser).await
        ),
    }
}

async fn main_text(browser: &Client) -> String {
    // Between a post and the next page there may be no document yet.
    match browser.find(Locator::Css("main")).await {
        Ok(main) => main.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Waits until the main content shows `needle` (pages reload after each post).
async fn wait_for_text(browser: &Client, needle: &str) -> String {
    for _ in 0..50 {
        let text = main_text(browser).await;
        if text.contains(needle) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the page never showed {needle:?}; it shows:\n{}",
        main_text(browser).await
    );
}

/// Opens `url` until it shows `needle`: for changes another person makes.
async fn reload_until(browser: &Client, url: &str, needle: &str) -> String {
    for _ in 0..50 {
        browser.goto(url).await.unwrap();
        let text = main_text(browser).await;
        if text.contains(needle) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!(
        "{url} never showed {needle:?}; it shows:\n{}",
        main_text(browser).await
    );
}

async fn onboard_in_browser(browser: &Client, app: &TestApp) {
    browser.goto(&app.url("/our-space")).await.unwrap();
    click(browser, "a[href='/onboarding']").await;
    wait_for_text(browser, "Your choice").await;
    assert_accessible(browser, "the welcome").await;
    click(browser, "#scores_consent").await;
    click(browser, "form[action='/onboarding/welcome'] button").await;
    wait_for_text(browser, "A few questions, just for you").await;
    assert_accessible(browser, "the safety check").await;
    let radios = browser
        .find_all(Locator::Css("input[type=radio][value=no]"))
        .await
        .unwrap();
    assert!(radios.len() >= 5);
    for radio in radios {
        radio.click().await.unwrap();
    }
    click(browser, "form[action='/onboarding/safety'] button").await;
    wait_for_path(browser, "/journey").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_partners_and_their_therapist_walk_the_program_together() {
    let Some(driver) = start_chromedriver().await else {
        return;
    };
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    let profiles = [
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    ];
    let alex = open_browser(&driver, profiles[0].path()).await;
    let sam = open_browser(&driver, profiles[1].path()).await;
    let priya = open_browser(&driver, profiles[2].path()).await;

    // Each partner signs in and onboards alone; every partner page has a quick exit.
    sign_in(&alex, &app, "alex@example.com").await;
    wait_for_path(&alex, "/our-space").await;
    let exit = alex
        .find(Locator::Css("form.quick-exit-form"))
        .await
        .unwrap();
    assert!(
        exit.attr("data-leave-to")
            .await
            .unwrap()
            .unwrap()
            .starts_with("https://")
    );
    onboard_in_browser(&alex, &app).await;
    sign_in(&sam, &app, "sam@example.com").await;
    wait_for_path(&sam, "/our-space").await;
    onboard_in_browser(&sam, &app).await;
    let journey = wait_for_text(&alex, "Making it safe").await;
    assert!(
        journey.contains("Opens when your therapist unlocks it"),
        "guided couples start with stage one"
    );
    assert_accessible(&alex, "the journey").await;

    // A paired exercise: Alex answers; Sam sees that Alex answered, not what.
    alex.goto(&app.url("/journey/boundaries-we-need"))
        .await
        .unwrap();
    assert_accessible(&alex, "a paired exercise").await;
    type_into(
        &alex,
        "#body",
        "When you stayed up to talk, even though you were tired.",
    )
    .await;
    click(&alex, "main form.card button[type=submit]").await;
    wait_for_text(&alex, "will appear here once they have answered too").await;
    let paired = app.url("/journey/boundaries-we-need");
    let before = reload_until(&sam, &paired, "Your partner has answered").await;
    assert!(
        !before.contains("stayed up to talk"),
        "hidden until Sam answers"
    );
    type_into(
        &sam,
        "#body",
        "When you showed me your phone without my asking.",
    )
    .await;
    click(&sam, "main form.card button[type=submit]").await;
    let after = wait_for_text(&sam, "stayed up to talk").await;
    assert!(after.contains("showed me your phone"));
    reload_until(&alex, &paired, "showed me your phone").await;

    // The therapist opens stage two from the couple page.
    sign_in(&priya, &app, "therapist@example.com").await;
    wait_for_path(&priya, "/caseload").await;
    priya
        .find(Locator::LinkText("Alex & Sam"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let couple = wait_for_text(&priya, "Journey: Rebuilding trust").await;
    assert!(
        !couple.contains("stayed up to talk"),
        "answers shared with the partner only never reach the therapist"
    );
    assert_accessible(&priya, "the couple page").await;
    click(
        &priya,
        "form[action$='/unlock']:has(input[value='acknowledging-the-pain']) button",
    )
    .await;
    wait_for_text(&priya, "The stage is open for the couple.").await;

    // Reflect-back: Sam shares, Alex reflects, Sam asks again, Alex reflects, Sam confirms.
    let loop_page = app.url("/journey/hearing-the-hurt");
    sam.goto(&loop_page).await.unwrap();
    assert_accessible(&sam, "a reflect-back exercise").await;
    type_into(
        &sam,
        "#body",
        "When you missed our dinner without a message, I felt I didn't matter.",
    )
    .await;
    click(&sam, "form:has(input[value='share']) button").await;
    wait_for_text(&sam, "Your partner's turn").await;
    reload_until(&alex, &loop_page, "I felt I didn't matter").await;
    type_into(&alex, "#body", "You were annoyed about dinner.").await;
    click(&alex, "form:has(input[value='reflect']) button").await;
    wait_for_text(&alex, "Your partner's turn").await;
    reload_until(&sam, &loop_page, "You were annoyed about dinner").await;
    type_into(
        &sam,
        "form:has(input[value='clarify']) textarea",
        "Not annoyed: it made me feel I didn't matter to you.",
    )
    .await;
    click(&sam, "form:has(input[value='clarify']) button").await;
    wait_for_text(&sam, "Your partner's turn").await;
    reload_until(&alex, &loop_page, "it made me feel I didn't matter to you").await;
    type_into(
        &alex,
        "#body",
        "You felt you didn't matter to me when I didn't let you know.",
    )
    .await;
    click(&alex, "form:has(input[value='reflect']) button").await;
    wait_for_text(&alex, "Your partner's turn").await;
    reload_until(&sam, &loop_page, "when I didn't let you know").await;
    click(&sam, "form:has(input[value='confirm']) button").await;
    wait_for_text(&sam, "Heard and confirmed.").await;
    let journey = reload_until(&alex, &app.url("/journey"), "both of you").await;
    assert!(journey.contains("Hearing the hurt"), "{journey}");
    // A promise kept by Alex and noticed by Sam; the therapist sees both.
    alex.goto(&app.url("/promises")).await.unwrap();
    type_into(&alex, "#promise-text", "I'll text you when I leave work").await;
    click(&alex, "form[action='/promises'] button").await;
    wait_for_text(&alex, "Your promise is made").await;
    click(&alex, "form[action$='/kept'] button").await;
    wait_for_text(&alex, "Kept today").await;
    sam.goto(&app.url("/promises")).await.unwrap();
    type_into(
        &sam,
        "form[action$='/noticed'] input[name=thanks]",
        "Thank you, it helps.",
    )
    .await;
    click(&sam, "form[action$='/noticed'] button").await;
    wait_for_text(&sam, "You noticed today.").await;
    assert_accessible(&sam, "promises after noticing").await;
    reload_until(&alex, &app.url("/promises"), "Thank you, it helps.").await;
    let couple_page = priya.current_url().await.unwrap().to_string();
    let couple_page = couple_page.split('?').next().unwrap_or_default().to_owned();
    let view = reload_until(&priya, &couple_page, "Promises, last four weeks").await;
    assert!(
        view.contains("Alex: 1 of 1 kept, 1 noticed by their partner"),
        "{view}"
    );
    alex.goto(&app.url("/journey/review")).await.unwrap();
    wait_for_text(&alex, "Our journey so far").await;
    assert_accessible(&alex, "the journey review").await;

    // A check-in, and its chart with the numbers beside it.
    alex.goto(&app.url("/measures/trust-pulse")).await.unwrap();
    assert_accessible(&alex, "the trust pulse form").await;
    for item in ["security", "reliability", "respect"] {
        click(&alex, &format!("input[name='item_{item}'][value='7']")).await;
    }
    click(&alex, "main form button[type=submit]").await;
    wait_for_text(&alex, "Your check-in is saved").await;
    let chart = alex
        .find(Locator::Css("svg.chart[role=img]"))
        .await
        .unwrap();
    assert!(
        chart
            .html(false)
            .await
            .unwrap()
            .contains("Trust pulse over time")
    );
    assert!(
        main_text(&alex).await.contains("21"),
        "the score is in the table"
    );
    assert_accessible(&alex, "check-ins with a chart").await;

    for browser in [alex, sam, priya] {
        browser.close().await.unwrap();
    }
}

/// The whole path into a practice, as people click it: a visitor takes the
/// self-check and asks for an appointment; the therapist accepts and books a
/// session; the partner joins, finds it in Trellis and in their calendar
/// feed, and writes to the therapist, who sees the message waiting.
async fn from_the_self_check_to_a_first_session(backend: Backend) {
    let Some(driver) = start_chromedriver().await else {
        return;
    };
    let Some(app) = TestApp::with_demo(backend).await else {
        return;
    };
    let profiles = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let visitor = open_browser(&driver, profiles[0].path()).await;
    let priya = open_browser(&driver, profiles[1].path()).await;

    visitor.goto(&app.url("/")).await.unwrap();
    click(&visitor, "a[href='/is-it-time']").await;
    wait_for_text(&visitor, "Is it time for couples therapy?").await;
    assert_accessible(&visitor, "the self-check").await;
    for sign in [
        "arguments",
        "distance",
        "resentment",
        "root-causes",
        "avoidance",
    ] {
        click(&visitor, &format!("#sign-{sign}-2")).await;
    }
    click(&visitor, "#safety-no").await;
    click(&visitor, "form[action='/is-it-time'] button").await;
    let reading = wait_for_text(&visitor, "not a diagnosis").await;
    assert!(
        reading.contains("some signs that things are hard"),
        "{reading}"
    );
    assert_accessible(&visitor, "the self-check's reading").await;
    maybe_screenshot(&visitor, "self-check.png").await;
    click(&visitor, "main a.button").await;
    wait_for_text(&visitor, "for a first appointment").await;
    assert_accessible(&visitor, "the appointment request").await;
    type_into(&visitor, "#names", "Maya and Leo").await;
    type_into(&visitor, "#email", "maya@example.net").await;
    type_into(&visitor, "#partner_email", "leo@example.net").await;
    type_into(&visitor, "#preferred_times", "Weekday evenings").await;
    // A person takes a moment before sending; the spam guard expects it.
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    click(&visitor, "main form button[type=submit]").await;
    wait_for_text(&visitor, "your request is on its way").await;

    // The therapist finds it in the intake inbox and accepts it.
    sign_in(&priya, &app, "therapist@example.com").await;
    wait_for_path(&priya, "/caseload").await;
    click(&priya, "header a[href='/intake']").await;
    wait_for_text(&priya, "Maya and Leo").await;
    assert_accessible(&priya, "the intake inbox").await;
    click(&priya, "main table a").await;
    wait_for_text(&priya, "Accept and invite the couple").await;
    assert_accessible(&priya, "an intake request").await;
    let prefilled = priya
        .find(Locator::Id("name2"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(prefilled.as_deref(), Some("Leo"));
    click(&priya, "form[action$='/accept'] button").await;
    let sent = wait_for_text(&priya, "Invitation emailed").await;
    assert!(
        !sent.contains("/invitations/"),
        "the therapist never sees the secret link"
    );
    // Maya finds her link where only she can: in her mail.
    let maya_link = format!(
        "{}/invitations/{}",
        app.base,
        app.invitation_token("maya@example.net")
    );
    let practice = app.store.practices().await.unwrap().remove(0);
    let couple_id = app.store.intakes(&practice.id, 5).await.unwrap()[0]
        .couple_id
        .clone()
        .unwrap();

    // …and books the first session, tomorrow at six in the evening.
    let date =
        trellis_core::time::utc_date(trellis_web::state::system_now() + trellis_core::time::DAY);
    priya
        .goto(&app.url(&format!("/caseload/couples/{couple_id}/sessions")))
        .await
        .unwrap();
    assert_accessible(&priya, "booking a session").await;
    priya
        .execute(
            "document.getElementById('start').value = arguments[0];",
            vec![json!(format!("{date}T18:00"))],
        )
        .await
        .unwrap();
    type_into(&priya, "#location", "Room 2, 2 Riverside Walk").await;
    click(&priya, "form[action$='/sessions'] button").await;
    wait_for_text(&priya, "both partners have been told").await;

    // Maya joins through her invitation and finds the session.
    let maya = &visitor;
    maya.goto(&maya_link).await.unwrap();
    type_into(maya, "#password", "a long calm password").await;
    click(maya, "main form button[type=submit]").await;
    wait_for_path(maya, "/our-space").await;
    let home = wait_for_text(maya, "Your next session").await;
    assert!(home.contains("18:00"), "{home}");
    click(maya, "header a[href='/sessions']").await;
    let sessions = wait_for_text(maya, "with Dr. Priya Natarajan").await;
    assert!(sessions.contains("Room 2, 2 Riverside Walk"));
    assert_accessible(maya, "the sessions page").await;

    // Her calendar feed has it.
    maya.goto(&app.url("/account/notices")).await.unwrap();
    assert_accessible(maya, "notices and calendar").await;
    let url = maya
        .find(Locator::Id("calendar-url"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let feed = reqwest::get(&url).await.unwrap().text().await.unwrap();
    let calendar = ical::IcalParser::new(std::io::BufReader::new(feed.as_bytes()))
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(calendar.events.len(), 1);

    // She writes to the therapist alone; the caseload shows it waiting.
    maya.goto(&app.url("/messages?thread=private"))
        .await
        .unwrap();
    assert_accessible(maya, "messages").await;
    type_into(
        maya,
        "#body",
        "Leo is nervous about the first session. So am I.",
    )
    .await;
    click(maya, "main form button[type=submit]").await;
    wait_for_text(maya, "So am I.").await;
    let caseload = reload_until(&priya, &app.url("/caseload"), "1 new message").await;
    assert!(caseload.contains("Maya"), "{caseload}");
    click(&priya, "main a[href$='/messages']").await;
    wait_for_text(&priya, "Together with Maya").await;
    click(&priya, "nav[aria-label='Threads'] li:nth-child(2) a").await;
    wait_for_text(&priya, "So am I.").await;
    assert_accessible(&priya, "a private thread").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_the_self_check_to_a_first_session_sqlite() {
    from_the_self_check_to_a_first_session(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_the_self_check_to_a_first_session_postgres() {
    from_the_self_check_to_a_first_session(Backend::Postgres).await;
}

/// Two partners hold a talk in two browsers: each turn appears on the other
/// screen without reloading by hand, the listener can only say back what
/// they heard, and a break can be called from the talk.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_browsers_hold_a_structured_talk() {
    let Some(driver) = start_chromedriver().await else {
        return;
    };
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    let profiles = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let alex = open_browser(&driver, profiles[0].path()).await;
    let sam = open_browser(&driver, profiles[1].path()).await;
    sign_in(&alex, &app, "alex@example.com").await;
    wait_for_path(&alex, "/our-space").await;
    sign_in(&sam, &app, "sam@example.com").await;
    wait_for_path(&sam, "/our-space").await;

    click(&alex, "header a[href='/talks']").await;
    wait_for_text(&alex, "Start a talk").await;
    assert_accessible(&alex, "talks").await;
    type_into(&alex, "#topic", "How we spend Sundays").await;
    click(&alex, "form[action='/talks'] button").await;
    wait_for_text(&alex, "You have the floor").await;
    assert_accessible(&alex, "a talk").await;
    let talk_path = alex.current_url().await.unwrap().path().to_owned();

    // Sam opens the same talk: listening, nothing to say back yet.
    sam.goto(&app.url(&talk_path)).await.unwrap();
    wait_for_text(&sam, "Alex has the floor").await;
    assert!(
        sam.find(Locator::Id("speak")).await.is_err(),
        "the listener has no speak box"
    );

    type_into(&alex, "#speak", "I miss our slow Sunday mornings.").await;
    click(&alex, "form:has(#speak) button").await;
    // Sam's page shows the turn and the paraphrase box without a manual reload.
    wait_for_text(&sam, "I miss our slow Sunday mornings.").await;
    type_into(
        &sam,
        "#paraphrase",
        "You miss the slow mornings we used to have.",
    )
    .await;
    click(&sam, "form:has(#paraphrase) button").await;
    wait_for_text(&alex, "You miss the slow mornings we used to have.").await;
    wait_for_text(&alex, "Did Sam get it?").await;
    click(&alex, "form:has(input[value=confirm]) button").await;
    wait_for_text(&sam, "confirmed: yes, that's it").await;
    click(&alex, "form:has(input[value=hand_over]) button").await;
    wait_for_text(&sam, "You have the floor").await;
    assert!(
        alex.find(Locator::Id("speak")).await.is_err(),
        "Alex listens now"
    );

    // Sam's turn, heard back by Alex; then both have been heard.
    type_into(
        &sam,
        "#speak",
        "I need a slow start too, but I also want to see my friends.",
    )
    .await;
    click(&sam, "form:has(#speak) button").await;
    wait_for_text(&alex, "I also want to see my friends.").await;
    type_into(
        &alex,
        "#paraphrase",
        "You want slow mornings and time with friends.",
    )
    .await;
    click(&alex, "form:has(#paraphrase) button").await;
    wait_for_text(&sam, "Did Alex get it?").await;
    maybe_screenshot(&sam, "talk.png").await;
    click(&sam, "form:has(input[value=confirm]) button").await;
    wait_for_text(&alex, "move on to problem-solving").await;

    // Problem-solving: what to solve, a proposal, accepted, made a promise.
    click(&alex, "form:has(input[value=solve]) button").await;
    wait_for_text(&alex, "What we want to solve").await;
    type_into(&alex, "#solve-body", "Sunday mornings").await;
    click(&alex, "form:has(#solve-body) button").await;
    wait_for_text(&sam, "named what to solve").await;
    click(&sam, "#k-propose").await;
    type_into(
        &sam,
        "#solve-body",
        "Slow breakfast together, friends after lunch",
    )
    .await;
    click(&sam, "form:has(#solve-body) button").await;
    wait_for_text(&alex, "I agree to the last proposal").await;
    click(&alex, "form:has(input[value=accept]) button").await;
    wait_for_text(&sam, "agreed").await;
    click(&alex, "form[action$='/promise'] button").await;
    wait_for_text(&alex, "one of your promises now").await;

    // Sam calls a break; Alex is told, kindly, when Sam will be back.
    click(&sam, "form[action$='/break'] button").await;
    wait_for_text(&sam, "Your break, until").await;
    assert_accessible(&sam, "a break").await;
    let told = reload_until(&alex, &app.url(&talk_path), "asked for a break").await;
    assert!(told.contains("will come back at"), "{told}");

    // Either can leave at any time; the talk ends for both.
    click(&alex, "form:has(input[value=leave]) button").await;
    wait_for_text(&alex, "Start a talk").await;
    reload_until(&sam, &app.url(&talk_path), "This talk has ended.").await;
}

/// Quick exit really leaves: a partner reading their journal presses Escape
/// three times; going Back afterwards does not show the journal, because the
/// session has ended and pages are never kept in the back-forward cache.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_three_times_signs_out_and_back_does_not_return_to_the_journal() {
    let Some(driver) = start_chromedriver().await else {
        return;
    };
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    let token = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let secret = "A page I would not want anyone to see over my shoulder";
    let (status, _) = app
        .api_post(
            Some(&token),
            "/api/v1/entries",
            json!({"body": secret, "audience": "me"}),
        )
        .await;
    assert!(status.is_success(), "{status}");
    let profile = tempfile::tempdir().unwrap();
    let browser = open_browser(&driver, profile.path()).await;
    sign_in(&browser, &app, "alex@example.com").await;
    wait_for_path(&browser, "/our-space").await;
    browser.goto(&app.url("/journal")).await.unwrap();
    wait_for_text(&browser, secret).await;

    let body = browser.find(Locator::Css("body")).await.unwrap();
    for _ in 0..3 {
        body.send_keys("\u{e00c}").await.unwrap();
    }
    // The page leaves for the neutral site (unreachable here, so an error page).
    for _ in 0..50 {
        if !browser
            .current_url()
            .await
            .unwrap()
            .as_str()
            .starts_with(&app.base)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !browser
            .current_url()
            .await
            .unwrap()
            .as_str()
            .starts_with(&app.base),
        "quick exit left Trellis"
    );

    browser.back().await.unwrap();
    wait_for_path(&browser, "/login").await;
    let shown = browser.source().await.unwrap();
    assert!(!shown.contains(secret), "Back shows the journal:\n{shown}");
    browser.goto(&app.url("/journal")).await.unwrap();
    wait_for_path(&browser, "/login").await;
}

/// A partner on a phone: a compact header whose menu opens without script
/// and shows the unread count, quick exit in the header and never over the
/// page, no sideways scrolling, and no accessibility problems at 390 px.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_on_a_phone_finds_the_menu_and_quick_exit_never_covers_the_page() {
    let Some(driver) = start_chromedriver().await else {
        return;
    };
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let (status, _) = app
        .api_post(
            Some(&sam),
            "/api/v1/messages",
            json!({"thread": "couple", "body": "Home by seven, shall I cook?"}),
        )
        .await;
    assert!(status.is_success(), "{status}");
    let alex = app.api_login("alex@example.com", DEMO_PASSWORD).await;
    let (status, _) = app
        .api_post(
            Some(&alex),
            "/api/v1/measures/csi4",
            json!({"answers": {"1": 3, "5": 3, "7": 3, "10": 3}}),
        )
        .await;
    assert!(status.is_success(), "{status}");
    let profile = tempfile::tempdir().unwrap();
    let phone = open_phone(&driver, profile.path()).await;
    sign_in(&phone, &app, "alex@example.com").await;
    wait_for_path(&phone, "/our-space").await;

    let width: f64 = number(&phone, "return window.innerWidth").await;
    assert!(width <= 400.0, "the phone's viewport is {width} px wide");
    let header: f64 = number(
        &phone,
        "return document.querySelector('header.site').getBoundingClientRect().height",
    )
    .await;
    assert!(
        header <= 80.0,
        "the header takes {header} px of a phone screen"
    );
    let overflow: f64 = number(
        &phone,
        "return document.documentElement.scrollWidth - window.innerWidth",
    )
    .await;
    assert!(
        overflow <= 0.0,
        "the page scrolls sideways by {overflow} px"
    );
    assert_accessible(&phone, "our space on a phone").await;
    maybe_screenshot(&phone, "phone-today.png").await;

    // the links are folded away until the menu opens; its button says what is new
    let journal_link = "details.menu a[href='/journal']";
    let link = phone.find(Locator::Css(journal_link)).await.unwrap();
    assert!(
        !link.is_displayed().await.unwrap(),
        "the menu starts closed"
    );
    let summary = phone
        .find(Locator::Css("details.menu > summary"))
        .await
        .unwrap();
    let label = summary.text().await.unwrap();
    assert!(label.contains("Menu"), "{label}");
    let unread = phone
        .find(Locator::Css("details.menu a[href='/messages'] .badge"))
        .await
        .unwrap();
    assert!(
        unread
            .html(true)
            .await
            .unwrap()
            .trim()
            .parse::<u32>()
            .unwrap()
            >= 1,
        "the unread message is counted beside Messages"
    );
    summary.click().await.unwrap();
    assert!(
        link.is_displayed().await.unwrap(),
        "the menu opens on a tap"
    );
    assert_accessible(&phone, "the open menu on a phone").await;
    link.click().await.unwrap();
    wait_for_path(&phone, "/journal").await;

    // quick exit sits in the header, which stays on screen as the page
    // scrolls; at the bottom of a long page nothing floats over the last words
    phone.goto(&app.url("/measures")).await.unwrap();
    let in_header: bool = phone
        .execute(
            "return !!document.querySelector('form.quick-exit-form').closest('header.site')",
            vec![],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap();
    assert!(in_header, "quick exit is part of the header");
    let label: f64 = number(
        &phone,
        "return document.querySelector('svg.chart .tick').getBoundingClientRect().height",
    )
    .await;
    assert!(label >= 10.0, "chart labels are {label} px high on a phone");
    phone
        .execute("window.scrollTo(0, document.body.scrollHeight)", vec![])
        .await
        .unwrap();
    let exit_top: f64 = number(
        &phone,
        "return document.querySelector('.quick-exit').getBoundingClientRect().top",
    )
    .await;
    assert!(
        (0.0..80.0).contains(&exit_top),
        "quick exit stays at the top of the screen when scrolled (top {exit_top})"
    );
    let covered: bool = phone
        .execute(
            r#"const last = [...document.querySelectorAll('main *')].filter(e => e.children.length === 0 && e.getBoundingClientRect().height > 0).pop();
               const r = last.getBoundingClientRect();
               const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
               return !(hit && (hit === last || last.contains(hit) || hit.contains(last)));"#,
            vec![],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap();
    assert!(!covered, "something floats over the end of the page");
    assert_accessible(&phone, "check-ins on a phone").await;
    maybe_screenshot(&phone, "phone-measures.png").await;

    // the promise form asks for days only when the promise is weekly
    phone.goto(&app.url("/promises")).await.unwrap();
    let days = phone
        .find(Locator::Css("form[action='/promises'] .when-weekly"))
        .await
        .unwrap();
    assert!(
        !days.is_displayed().await.unwrap(),
        "no weekdays for a daily promise"
    );
    phone
        .find(Locator::Css("#cadence"))
        .await
        .unwrap()
        .select_by_value("weekly")
        .await
        .unwrap();
    assert!(
        days.is_displayed().await.unwrap(),
        "weekdays for a weekly one"
    );
    assert_accessible(&phone, "promises on a phone").await;

    // the two-step key wraps instead of pushing the page sideways
    phone.goto(&app.url("/account/two-factor")).await.unwrap();
    wait_for_text(&phone, "Key:").await;
    let overflow: f64 = number(
        &phone,
        "return document.documentElement.scrollWidth - window.innerWidth",
    )
    .await;
    assert!(
        overflow <= 0.0,
        "two-step setup scrolls sideways by {overflow} px"
    );
}

async fn number(browser: &Client, script: &str) -> f64 {
    browser
        .execute(script, vec![])
        .await
        .unwrap()
        .as_f64()
        .unwrap_or_else(|| panic!("{script} gave no number"))
}

/// A DevTools command sent through ChromeDriver (`goog/cdp/execute`).
#[derive(Debug)]
struct DevTools {
    method: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({"cmd": self.method, "params": self.params});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// What Chromium says stops it installing the current page as an app
/// (`Page.getInstallabilityErrors`): its ids, empty when installable.
async fn chromium_installability_errors(browser: &Client) -> Vec<String> {
    let answer = browser
        .issue_cmd(DevTools {
            method: "Page.getInstallabilityErrors",
            params: json!({}),
        })
        .await
        .unwrap();
    answer["installabilityErrors"]
        .as_array()
        .unwrap_or_else(|| panic!("unexpected answer: {answer}"))
        .iter()
        .map(|e| e["errorId"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The notices page turns notices on with the browser's push manager, and
/// the service worker shows what a push carries. Chromium here has no push
/// service to subscribe with (that part is tested against a push service on
/// loopback in `push.rs`), so DevTools hands the worker a push directly, as
/// a push service would.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_offers_notices_and_its_service_worker_shows_a_pushed_one() {
    let Some(driver) = start_chromedriver().await else {
        return;
    };
    let app = TestApp::with_demo(Backend::Sqlite).await.unwrap();
    let profile = tempfile::tempdir().unwrap();
    let phone = open_phone(&driver, profile.path()).await;
    sign_in(&phone, &app, "sam@example.com").await;
    wait_for_path(&phone, "/our-space").await;
    phone.goto(&app.url("/account/notices")).await.unwrap();
    // the page's script found push support: it offers to turn notices on
    let mut offered = false;
    for _ in 0..50 {
        let shown = phone
            .execute(
                "const b = document.getElementById('push-on'); \
                 return !document.getElementById('push-actions').hidden && !b.hidden && b.getBoundingClientRect().height >= 44;",
                vec![],
            )
            .await
            .unwrap();
        if shown == json!(true) {
            offered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(offered, "the notices page never offered to turn notices on");
    let page = main_text(&phone).await;
    assert!(page.contains("yours alone"), "{page}");
    assert!(page.contains("No device gets notices from Trellis yet."));
    assert_accessible(&phone, "notices (phone)").await;

    // what a push service would deliver, shown by the service worker
    let origin = app.base.clone();
    phone
        .issue_cmd(DevTools {
            method: "Browser.grantPermissions",
            params: json!({"permissions": ["notifications"], "origin": origin}),
        })
        .await
        .unwrap();
    phone
        .issue_cmd(DevTools {
            method: "ServiceWorker.enable",
            params: json!({}),
        })
        .await
        .unwrap();
    let payload = json!({
        "title": "You have a new message in Trellis",
        "body": "There is a new message waiting for you in Trellis.",
        "url": "/messages",
        "tag": "message",
    })
    .to_string();
    // the worker is active before a push can reach it
    let ready = phone
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             navigator.serviceWorker.ready.then(r => done(Boolean(r.active))).catch(e => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(ready, json!(true), "the service worker never became active");
    // DevTools names a worker by its registration id, which it only tells
    // through events; a fresh profile numbers its registrations from 0, and a
    // push to an id that does not exist goes nowhere, so each is tried (the
    // notice's tag keeps the device showing one)
    let mut accepted = 0;
    for id in 0..10 {
        let answer = phone
            .issue_cmd(DevTools {
                method: "ServiceWorker.deliverPushMessage",
                params: json!({"origin": origin, "registrationId": id.to_string(), "data": payload}),
            })
            .await;
        accepted += usize::from(answer.is_ok());
    }
    assert!(
        accepted > 0,
        "DevTools could not hand the service worker a push"
    );
    let mut shown = serde_json::Value::Null;
    for _ in 0..100 {
        shown = phone
            .execute_async(
                "const done = arguments[arguments.length - 1]; \
                 navigator.serviceWorker.ready.then(r => r.getNotifications()) \
                   .then(list => done(list.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url})))) \
                   .catch(e => done(String(e)));",
                vec![],
            )
            .await
            .unwrap();
        if shown.as_array().is_some_and(|list| !list.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let notices = shown.as_array().unwrap_or_else(|| panic!("{shown}"));
    assert_eq!(notices.len(), 1, "{shown}");
    assert_eq!(notices[0]["title"], "You have a new message in Trellis");
    assert_eq!(notices[0]["tag"], "message");
    assert_eq!(notices[0]["url"], "/messages");

    // signing out still signs out at once (the page first turns this
    // device's notices off when it has any)
    phone
        .execute(
            "document.querySelector(\"form[action='/logout']\").requestSubmit()",
            vec![],
        )
        .await
        .unwrap();
    wait_for_path(&phone, "/").await;
    phone.goto(&app.url("/account/notices")).await.unwrap();
    wait_for_path(&phone, "/login").await;
}

/// Sharing with care, on a phone: shared writing waits, the page says who
/// will read it and when, Undo keeps it private, Share now sends it; the
/// partner reads only what was sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_shared_writing_can_be_taken_back_before_anyone_reads_it() {
    let Some(driver) = start_chromedriver().await else {
        return;
    };
    let app = TestApp::with_undo_window(Backend::Sqlite).await.unwrap();
    let profile = tempfile::tempdir().unwrap();
    let phone = open_phone(&driver, profile.path()).await;
    sign_in(&phone, &app, "alex@example.com").await;
    wait_for_path(&phone, "/our-space").await;
    let sam = app.api_login("sam@example.com", DEMO_PASSWORD).await;
    let sam_reads = |body: &'static str| {
        let app = &app;
        let sam = sam.clone();
        async move {
            let (_, list) = app.api_get(&sam, "/api/v1/entries").await;
            list["entries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["body"] == body)
        }
    };

    let taken_back = "I was hurt tonight and I said it badly.";
    let sent = "I want to try again tomorrow, calmly.";
    for (body, choice) in [(taken_back, "undo"), (sent, "share-now")] {
        phone.goto(&app.url("/journal")).await.unwrap();
        type_into(&phone, "#body", body).await;
        click(&phone, "#audience-new-partner_and_therapist").await;
        click(&phone, "form[action='/journal'] button[type=submit]").await;
        let said = wait_for_text(&phone, "so you can still take it back").await;
        assert!(
            said.contains("Sam"),
            "the page does not say who will read it: {said}"
        );
        assert!(
            !sam_reads(body).await,
            "Sam reads writing still in its undo window"
        );
        // the choice is on screen without scrolling
        let top: f64 = number(
            &phone,
            &format!(
                "return document.querySelector(\"form[action$='/{choice}'] button\").getBoundingClientRect().bottom"
            ),
        )
        .await;
        assert!(
            top <= 844.0,
            "the {choice} button is below the fold ({top} px)"
        );
        assert_accessible(&phone, "the journal while shared writing waits").await;
        click(&phone, &format!("form[action$='/{choice}'] button")).await;
        wait_for_path(&phone, "/journal").await;
    }
    wait_for_text(&phone, "Shared: it can be read now.").await;
    assert!(!sam_reads(taken_back).await, "undone writing reached Sam");
    assert!(
        sam_reads(sent).await,
        "writing shared now did not reach Sam"
    );
}
