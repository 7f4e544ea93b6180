//! The `trellis` command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use trellis_store::Store;

use crate::config::{Config, Overrides};
use crate::demo;
use crate::server::{Server, shutdown_signal};

#[derive(Parser)]
#[command(
    name = "trellis",
    version,
    about = "A private space where couples rebuild trust, with their therapist."
)]
pub struct Cli {
    /// Configuration file (default: ./trellis.toml when present).
    #[arg(long, global = true, env = "TRELLIS_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run Trellis for a practice. On an empty database, prints a one-time setup link.
    Serve(ServeArgs),
    /// Run a demo practice with sample couples (seeded only into an empty database).
    Demo(DemoArgs),
    /// Apply database migrations and exit.
    Migrate(DataArgs),
    /// Administrative tasks.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Make a consistent copy of the SQLite database while Trellis runs.
    Backup(BackupArgs),
    /// The communication coach, from the command line.
    #[command(subcommand)]
    Coach(CoachCommand),
    /// Write a large generated practice into an empty database, for the scale
    /// benchmark (see benches/scale/). Refuses a database that holds data.
    Loadgen(LoadgenArgs),
}

#[derive(Args)]
struct LoadgenArgs {
    /// How many couples (40 to a therapist, plus a therapist with 3 more).
    #[arg(long)]
    couples: usize,
    /// Weeks of history for each couple: check-ins, writing, promises, messages.
    #[arg(long)]
    weeks: usize,
    /// The password of every generated account.
    #[arg(long)]
    password: String,
    /// Directory of the SQLite database and keys [default: ./trellis-data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum CoachCommand {
    /// Score the coach on labelled messages (JSONL: {"text","labels":[…]} per line):
    /// per-label precision, recall and F1, macro-F1, harsh F1, crisis recall.
    Eval {
        /// The labelled messages.
        file: PathBuf,
        /// Also list the messages whose labels differ.
        #[arg(long)]
        mismatches: bool,
    },
    /// Analyse one message per line from standard input; one JSON object per line out.
    Analyze,
}

#[derive(Args)]
struct BackupArgs {
    /// Where to write the copy (must not exist yet).
    file: PathBuf,
    /// Directory of the SQLite database [default: ./trellis-data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Args)]
struct ServeArgs {
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR:PORT")]
    bind: Option<SocketAddr>,
    /// Directory for the SQLite database, mail outbox and keys [default: ./trellis-data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Args)]
struct DemoArgs {
    /// Address and port to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR:PORT")]
    bind: Option<SocketAddr>,
    /// Directory for the demo's data [default: ./trellis-demo].
    #[arg(long, value_name = "DIR", default_value = "./trellis-demo")]
    data_dir: PathBuf,
    /// Password for every demo account (otherwise one is generated and printed).
    #[arg(long, value_name = "PW")]
    password: Option<String>,
}

#[derive(Args)]
struct DataArgs {
    /// Directory of the SQLite database [default: ./trellis-data].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Print a new one-time setup link, if nobody has an account yet.
    SetupLink(DataArgs),
    /// Start using a new master key: every couple's data key is re-wrapped
    /// under it. Running servers keep working (they reload the key file).
    RotateKey(DataArgs),
    /// Give every couple (and each practice, and the system) a new data key
    /// and re-seal everything under it. Running servers keep working; the
    /// replaced keys are dropped by the next run once nothing uses them.
    RotateDataKeys(DataArgs),
    /// Turn off someone's two-step sign-in (a lost phone, no recovery codes)
    /// and end their sessions. Recorded in their activity log.
    ResetTwoFactor(ResetTwoFactorArgs),
}

#[derive(Args)]
struct ResetTwoFactorArgs {
    /// The email address of the account.
    #[arg(long)]
    email: String,
    #[command(flatten)]
    data: DataArgs,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("trellis: could not start: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("trellis: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("TRELLIS_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let config_file = cli.config.as_deref();
    match cli.command {
        Command::Serve(args) => {
            let config = Config::load(
                config_file,
                Overrides {
                    bind: args.bind,
                    data_dir: args.data_dir,
                },
            )?;
            init_logging(&config);
            tracing::info!(?config, "starting Trellis");
            let server = Server::build(&config).await?;
            if let Some(link) = trellis_app::services::accounts::setup_link_if_empty(
                server.state().store(),
                server.state().config(),
            )
            .await?
            {
                println!("\nWelcome to Trellis. This database is empty.");
                println!(
                    "Open this one-time link to create your practice and its first admin (valid for 24 hours):\n"
                );
                println!("    {link}\n");
            }
            println!("Trellis is listening on http://{}", server.addr());
            server.run_until(shutdown_signal()).await
        }
        Command::Demo(args) => {
            let config = Config::load(
                config_file,
                Overrides {
                    bind: args.bind,
                    data_dir: Some(args.data_dir),
                },
            )?;
            init_logging(&config);
            run_demo(config, args.password).await
        }
        Command::Loadgen(args) => {
            trellis_core::NewPassword::parse("password", &args.password)
                .map_err(|err| anyhow::anyhow!(err.message))?;
            let (config, store) = open_store(config_file, args.data_dir).await?;
            init_logging(&config);
            let vault = trellis_web::vault::Vault::from_keyring_file(config.master_key_file())?;
            let content = trellis_web::content::Content::load(config.content_dir.as_deref())
                .context("the program content is not valid")?;
            let report = crate::loadgen::generate(
                &store,
                std::sync::Arc::new(vault),
                std::sync::Arc::new(content),
                &args.password,
                crate::loadgen::Plan {
                    couples: args.couples,
                    weeks: args.weeks,
                },
                trellis_web::state::system_now(),
            )
            .await;
            store.close().await;
            let report = report?;
            println!(
                "loadgen: {} couples, {} therapists, {} rows in {:.1} s",
                report.couples, report.therapists, report.rows, report.seconds
            );
            Ok(())
        }
        Command::Migrate(args) => {
            let (_, store) = open_store(config_file, args.data_dir).await?;
            store.close().await;
            println!("The database is up to date.");
            Ok(())
        }
        Command::Coach(CoachCommand::Eval { file, mismatches }) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("could not read {}", file.display()))?;
            let messages = trellis_coach::eval::parse_jsonl(&text)
                .map_err(|err| anyhow::anyhow!("{}: {err}", file.display()))?;
            let report = trellis_coach::eval::evaluate(&messages);
            println!("{report}");
            if mismatches {
                println!("{}", report.mismatch_lines());
            }
            Ok(())
        }
        Command::Coach(CoachCommand::Analyze) => {
            use std::io::{BufRead, Write};
            let stdin = std::io::stdin();
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for line in stdin.lock().lines() {
                let line = line.context("could not read standard input")?;
                serde_json::to_writer(&mut out, &trellis_coach::analyze(&line))?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
            Ok(())
        }
        Command::Admin(AdminCommand::RotateKey(args)) => {
            let (config, store) = open_store(config_file, args.data_dir).await?;
            let path = config.master_key_file();
            let count = trellis_web::vault::rotate_master_key(&store, &path).await?;
            store.close().await;
            println!(
                "A new master key is in use in {}; {count} couple keys were re-wrapped.",
                path.display()
            );
            println!(
                "Older keys stay in the file so nothing becomes unreadable. Back the file up now."
            );
            Ok(())
        }
        Command::Admin(AdminCommand::RotateDataKeys(args)) => {
            let (config, store) = open_store(config_file, args.data_dir).await?;
            let vault = trellis_web::vault::Vault::from_keyring_file(config.master_key_file())?;
            let done = trellis_web::vault::rotate_data_keys(&store, &vault).await?;
            store.close().await;
            println!(
                "{} data keys were replaced; {} sealed values were re-sealed under the new keys.",
                done.rotated, done.resealed
            );
            if done.dropped > 0 {
                println!(
                    "{} keys replaced by an earlier rotation were no longer used and were dropped.",
                    done.dropped
                );
            }
            if done.unreadable > 0 {
                println!(
                    "{} sealed values did not open (see the log); the keys they name are kept.",
                    done.unreadable
                );
            }
            Ok(())
        }
        Command::Backup(args) => {
            let (config, store) = open_store(config_file, args.data_dir).await?;
            if store.backend() == trellis_store::Backend::Postgres {
                store.close().await;
                anyhow::bail!(
                    "this Trellis uses PostgreSQL: back it up with `pg_dump --format=custom --file=trellis.dump <database>` \
                     (and restore with pg_restore). Keep the master key file ({}) with your backups, stored apart: \
                     without it the writing in a backup cannot be read.",
                    config.master_key_file().display()
                );
            }
            match store.backup_to(&args.file).await {
                Ok(()) => {}
                Err(trellis_store::StoreError::Conflict(trellis_store::Conflict::BackupFile)) => {
                    store.close().await;
                    anyhow::bail!(
                        "{} already exists: a backup never writes over a file, so please choose another name.",
                        args.file.display()
                    );
                }
                Err(err) => {
                    return Err(anyhow::Error::from(err).context(format!(
                        "could not write the backup to {}",
                        args.file.display()
                    )));
                }
            }
            store.close().await;
            println!("Backup written to {}.", args.file.display());
            println!(
                "Client writing in it is encrypted: keep a copy of the master key file ({}) too, stored apart from the backup.",
                config.master_key_file().display()
            );
            Ok(())
        }
        Command::Admin(AdminCommand::ResetTwoFactor(args)) => {
            let (_, store) = open_store(config_file, args.data.data_dir).await?;
            let result = reset_two_factor(&store, &args.email).await;
            store.close().await;
            result?;
            println!(
                "Two-step sign-in is off for {} and their sessions have ended. They can set it up again after signing in.",
                args.email.trim()
            );
            Ok(())
        }
        Command::Admin(AdminCommand::SetupLink(args)) => {
            let (config, store) = open_store(config_file, args.data_dir).await?;
            let web = trellis_web::WebConfig::new(config.public_url());
            let link = trellis_app::services::accounts::setup_link_if_empty(&store, &web).await?;
            store.close().await;
            match link {
                Some(link) => println!("{link}"),
                None => {
                    anyhow::bail!("this Trellis already has accounts; sign in as an admin instead")
                }
            }
            Ok(())
        }
    }
}

/// Configuration and the database, for the commands that only need those.
async fn open_store(
    config_file: Option<&std::path::Path>,
    data_dir: Option<PathBuf>,
) -> anyhow::Result<(Config, Store)> {
    let config = Config::load(
        config_file,
        Overrides {
            bind: None,
            data_dir,
        },
    )?;
    init_logging(&config);
    let store = config.open_store().await?;
    Ok((config, store))
}

/// Where a demo remembers the password it generated, so a restart can say it again.
const DEMO_PASSWORD_FILE: &str = "demo-password.txt";

fn generate_password() -> String {
    use rand::Rng;
    const WORDS: &[&str] = &[
        "river", "maple", "lantern", "harbor", "meadow", "ember", "willow", "cedar", "pebble",
        "garden", "candle", "orchard", "sparrow", "linen", "clover", "amber", "bridge", "compass",
        "thistle", "juniper",
    ];
    let mut rng = rand::thread_rng();
    let words: Vec<&str> = (0..3)
        .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
        .collect();
    format!("{}-{}", words.join("-"), rng.gen_range(10..100))
}

async fn run_demo(config: Config, password: Option<String>) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("could not create {}", config.data_dir.display()))?;
    let server = Server::build(&config).await?;
    let password_file = config.data_dir.join(DEMO_PASSWORD_FILE);
    let password = match password {
        Some(password) => password,
        None => std::fs::read_to_string(&password_file)
            .map(|p| p.trim().to_owned())
            .unwrap_or_else(|_| generate_password()),
    };
    trellis_core::NewPassword::parse("password", &password)
        .map_err(|err| anyhow::anyhow!(err.message))?;
    let seeded = demo::seed_if_empty(
        server.state().store(),
        &password,
        trellis_web::state::system_now(),
    )
    .await?;
    if seeded {
        demo::history::seed(server.state(), trellis_web::state::system_now())
            .await
            .context("could not create the demo history")?;
        write_private(&password_file, &password)?;
    }
    let url = format!("http://{}", server.addr());
    println!("\nTrellis demo practice is running at {url}\n");
    if seeded {
        println!("A fresh demo practice was created. Sign in with any of these accounts:");
    } else {
        println!(
            "Using the existing demo data in {}. Sign in with:",
            config.data_dir.display()
        );
    }
    for account in demo::ACCOUNTS {
        println!("    {:<24} {}", account.email, account.description);
    }
    if seeded || password_file.exists() {
        println!("\nPassword for every account: {password}\n");
    } else {
        println!("\nUse the password chosen when this demo was created.\n");
    }
    println!(
        "Mail (invitations, password resets) is written to {}",
        config.data_dir.join("outbox").display()
    );
    println!("Press Ctrl-C to stop.");
    server.run_until(shutdown_signal()).await
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("could not write {}", path.display()))?;
    file.write_all(contents.as_bytes())?;
    Ok(())
}

/// The operator's reset of someone's second step, recorded like an admin's.
async fn reset_two_factor(store: &Store, email: &str) -> anyhow::Result<()> {
    let address = trellis_core::EmailAddress::parse("email", email)
        .map_err(|_| anyhow::anyhow!("{email:?} is not an email address"))?;
    let Some(account) = store.user_by_email(&address).await? else {
        anyhow::bail!("no account has the address {}", address.as_str());
    };
    let user = account.user;
    store.disable_totp(&user.id).await?;
    store.delete_user_sessions(&user.id).await?;
    store
        .record_audit(
            trellis_store::AuditRecord {
                actor_id: None,
                actor_role: None,
                action: "two_factor_reset",
                subject_id: Some(&user.id),
                couple_id: user.couple_id.as_deref(),
                item_kind: None,
                item_id: None,
                detail: "trellis admin reset-two-factor",
            },
            trellis_web::state::system_now(),
        )
        .await?;
    Ok(())
}
