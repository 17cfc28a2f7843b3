//! Command-line interface. Each subcommand is one function; they share `App`.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use herald_core::Clock as _;
use herald_core::planner::NoticeKind;
use herald_core::values::{CustomerId, InvoiceId, Locale};
use herald_render::TemplateSet;
use herald_store::{HistoryFilter, Store};

use crate::app::{App, load_templates};
use crate::clock::now_or;
use crate::config::{Config, STARTER_CONFIG};
use crate::import::{self, ImportOptions, RecordKind};
use crate::jobs::{self, PlanOptions};

/// herald decides who must be told what and when, renders the message in the
/// recipient's language, delivers it, and keeps the status and history of every
/// notification.
///
/// Start with `herald demo` to see it work, or `herald init` for a workspace of
/// your own: import customers, contacts and invoices, then `herald run`.
#[derive(Debug, Parser)]
#[command(name = "herald", version, propagate_version = true)]
pub struct Cli {
    /// The configuration file.
    #[arg(
        long,
        global = true,
        env = "HERALD_CONFIG",
        default_value = "herald.toml"
    )]
    pub config: PathBuf,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum SmtpCommand {
    /// Connect, start TLS and log in as a send would; with --to, also send a test message.
    Test {
        /// Send a short test message to this address.
        #[arg(long)]
        to: Option<String>,
        /// The [[accounts]] entry to test; without it, [channels.email].
        #[arg(long)]
        account: Option<String>,
    },
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct HoldArgs {
    #[arg(long)]
    pub customer: Option<String>,
    #[arg(long)]
    pub invoice: Option<String>,
}

impl HoldArgs {
    fn target(&self) -> (herald_store::HoldOn, String) {
        match (&self.customer, &self.invoice) {
            (Some(c), _) => (herald_store::HoldOn::Customer, c.clone()),
            (None, Some(i)) => (herald_store::HoldOn::Invoice, i.clone()),
            (None, None) => (herald_store::HoldOn::Customer, String::new()),
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print it, once: only its hash is stored.
    Create {
        /// What it is for, e.g. the ERP that uses it.
        #[arg(long)]
        name: String,
        /// ingest, read or admin (admin may do everything); repeat for several.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
    },
    /// Every token: id, name, scopes, created, last used, revoked.
    List,
    /// Revoke a token by id: it stops working at once.
    Revoke { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a console user; the password is asked at the terminal (or read from
    /// standard input with --password-stdin). Only its argon2 hash is stored.
    Create {
        /// What they sign in with: letters, digits, '.', '_', '-', '@'.
        login: String,
        /// viewer (sees), operator (also resends, pauses, cancels) or admin (also
        /// changes settings and users).
        #[arg(long)]
        role: String,
        /// Their name as the console shows it (the login if not given).
        #[arg(long)]
        name: Option<String>,
        /// The console's language for them: en or pl.
        #[arg(long, default_value = "en")]
        locale: String,
        /// Read the password from one line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Every console user: login, name, role, language, created, disabled.
    List,
    /// Set a new password; the user is signed out everywhere.
    Password {
        login: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Give a user another role.
    Role {
        login: String,
        role: String,
    },
    /// Stop a user from signing in (signed out at once); `enable` undoes it.
    Disable {
        login: String,
    },
    Enable {
        login: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a starter workspace: herald.toml, templates/, an empty database, outbox/.
    Init {
        /// Where to create it (created if missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Validate the config and render every template in every language against sample data.
    Check,
    /// Create or update the store's tables ([store] url: a SQLite file, or a
    /// PostgreSQL database that exists and is empty or herald's). Every command
    /// does this when it opens the store; this one does only that, e.g. before
    /// starting several nodes. A database written by a newer herald is refused.
    Migrate,
    /// Copy a whole store into a new, empty one, e.g. from SQLite to PostgreSQL
    /// when one machine is no longer enough: every table in one transaction, each
    /// table's row count and SHA-256 compared before it commits. Stop every herald
    /// using the source first. Then point [store] url at the target.
    MigrateStore {
        /// The store to read: sqlite://PATH or postgres://USER@HOST/DB.
        #[arg(long)]
        from: String,
        /// The store to fill: a new SQLite file, or an empty PostgreSQL database
        /// (its tables are created first).
        #[arg(long)]
        to: String,
    },
    /// Import customers, contacts, operators, invoices, payments, relations, tasks or events from CSV or JSON.
    ///
    /// Rows upsert by id. A file with any bad row is refused whole (exit code 2),
    /// every problem listed as FILE:LINE:COLUMN: reason, and nothing is written.
    Import(ImportArgs),
    /// Plan, then send: the whole job, as the service does it on its schedule.
    Run {
        #[command(flatten)]
        time: TimeArgs,
        /// Show what would be planned and sent; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Plan for this customer only (the watermark does not move).
        #[arg(long)]
        only_customer: Option<String>,
    },
    /// Generate notifications that are due (seed 003's first job). Safe to re-run.
    Plan {
        #[command(flatten)]
        time: TimeArgs,
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        only_customer: Option<String>,
        /// With --dry-run: list only this rule's notices ("what would it send tonight").
        #[arg(long, requires = "dry_run")]
        rule: Option<String>,
    },
    /// Deliver the notifications that are due (seed 003's second job).
    Send {
        #[command(flatten)]
        time: TimeArgs,
    },
    /// Queue every invoice of a month for sending (seed 004's batch sending), and
    /// return at once: `herald send` or the service delivers them, `herald status`
    /// shows how far it got. An invoice already sent by the rule is not sent again.
    SendInvoices {
        /// The month whose invoices (by issue date) go out: YYYY-MM.
        #[arg(long)]
        period: String,
        /// The batch rule (on = "invoice.batch"); needed only when there are several.
        #[arg(long)]
        rule: Option<String>,
        #[command(flatten)]
        time: TimeArgs,
    },
    /// Hold a customer's or an invoice's notices (a dispute, a promise to pay): they
    /// are cancelled at send time with the reason until resumed or `--until`.
    Pause {
        #[command(flatten)]
        on: HoldArgs,
        /// Why, for the history: "dispute", "promise to pay by 2026-12-05".
        #[arg(long)]
        reason: String,
        /// When the hold ends by itself (RFC 3339 or a date: the end of that day).
        #[arg(long)]
        until: Option<String>,
    },
    /// End a hold: the next notices go out as they fall due.
    Resume {
        #[command(flatten)]
        on: HoldArgs,
    },
    /// Every hold on a customer or an invoice.
    Holds,
    /// Cancel what of a notification still waits to be sent, with the reason.
    Cancel {
        /// The notification (`herald history` shows ids).
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// API tokens for `herald serve`'s HTTP API.
    Token {
        #[command(subcommand)]
        cmd: TokenCommand,
    },
    /// The web console's users (`herald serve` shows the console at /console).
    User {
        #[command(subcommand)]
        cmd: UserCommand,
    },
    /// Runs the service: the planner on its schedule, the dispatcher, /healthz and
    /// /readyz ([service] in herald.toml), until Ctrl-C or SIGTERM.
    Serve {
        /// Listen here instead of [service] listen, e.g. 127.0.0.1:0 for any free port.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Run as if the clock read this at start (RFC 3339 or a date), time then
        /// passing as usual: to replay a day, or test catching up after a stop.
        #[arg(long)]
        now: Option<String>,
    },
    /// Counts per state and per rule, the last run and the watermark.
    Status {
        /// Machine-readable output (documented in docs/json.md).
        #[arg(long)]
        json: bool,
    },
    /// Notifications of a customer or an invoice: level, date, state, error, next reminder.
    History {
        #[arg(long, conflicts_with = "invoice")]
        customer: Option<String>,
        #[arg(long)]
        invoice: Option<String>,
        /// What the notices are about: a customs declaration number (its status per
        /// message type: IE529, IE509, IE599), a task id.
        #[arg(long, conflicts_with = "invoice")]
        subject: Option<String>,
        /// The notices of one rule, e.g. a digest's.
        #[arg(long)]
        rule: Option<String>,
        #[arg(long, default_value_t = 200)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// Render a rule's message for a customer without sending it.
    Preview {
        /// The rule id, e.g. due-soon, dunning or customs-ie529.
        rule: String,
        /// Whom it is for (a digest rule needs none).
        #[arg(long)]
        customer: Option<String>,
        /// An event rule: its latest event about this subject (a declaration number);
        /// a task rule: the task (default: the customer's next reminder); a digest
        /// rule: the operator whose digest (default: the first it sends).
        #[arg(long)]
        subject: Option<String>,
        /// The invoice (single-invoice rules); default: the customer's latest open one.
        #[arg(long)]
        invoice: Option<String>,
        /// Render in this language instead of the customer's.
        #[arg(long)]
        locale: Option<String>,
        /// Also print the HTML part.
        #[arg(long)]
        html: bool,
        #[command(flatten)]
        time: TimeArgs,
    },
    /// Send a notification again as a new delivery (audit-logged).
    Resend {
        notification_id: i64,
        /// Another e-mail address to send it to (seed 000: "resend to address…").
        #[arg(long)]
        to: Option<String>,
        /// Another template to render it with.
        #[arg(long)]
        template: Option<String>,
        /// Who asks (kept in the audit log).
        #[arg(long, default_value = "cli")]
        actor: String,
        #[command(flatten)]
        time: TimeArgs,
    },
    /// Check the SMTP account: connect, start TLS, log in and, with --to, send a test
    /// message, printing each step and a clear reason when one fails (seed 002, 003).
    Smtp {
        #[command(subcommand)]
        cmd: SmtpCommand,
    },
    /// Create a demo workspace and simulate N days of daily runs into the file outbox.
    Demo {
        #[arg(long, default_value = "herald-demo")]
        dir: PathBuf,
        #[arg(long, default_value_t = 60)]
        days: u32,
        /// The dataset's seed: the same seed gives the same output.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
    /// Write the benchmark's CSV files (scripts/bench.sh uses it).
    #[command(hide = true)]
    BenchData {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value_t = 100_000)]
        customers: u32,
        #[arg(long, default_value_t = 1_000_000)]
        invoices: u32,
        /// The date the data is generated around.
        #[arg(long)]
        today: String,
        #[arg(long, default_value_t = 2026)]
        seed: u64,
    },
}

#[derive(Debug, Args)]
pub struct TimeArgs {
    /// Act as if it were this time: an RFC 3339 instant, or a date (the end of that
    /// day in the tenant's time zone).
    #[arg(long, env = "HERALD_NOW")]
    pub now: Option<String>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// customers, contacts, operators, invoices, payments, relations, tasks or events.
    pub kind: String,
    /// A .csv file with a header row, a .json array, or .jsonl (one object per line).
    pub file: PathBuf,
    /// Accept (and ignore) columns herald does not know.
    #[arg(long)]
    pub ignore_unknown_columns: bool,
    /// Import the good rows and list every skipped one, instead of refusing the file.
    #[arg(long)]
    pub skip_invalid: bool,
}

/// An error that means "your input is wrong" (exit code 2), not "herald failed".
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

pub fn exit_code_of(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<InputError>().is_some()
        || e.downcast_ref::<crate::config::ConfigError>().is_some()
    {
        2
    } else {
        1
    }
}

pub fn init_logging(cli: &Cli) {
    // Warnings, and the SMTP conversation of an account with `debug = true` (it
    // logs nothing otherwise).
    // The service logs each run and each delivery (info), by id; a command only
    // what needs attention.
    let default = if matches!(cli.command, Command::Serve { .. }) {
        "info"
    } else {
        "warn,herald::smtp=info"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("HERALD_LOG")
        .unwrap_or_else(|_| default.into());
    use std::io::IsTerminal as _;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match cli.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

fn env_vars() -> BTreeMap<String, String> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with("HERALD_"))
        .collect()
}

pub fn load_config(path: &Path) -> anyhow::Result<Config> {
    Ok(Config::load(path, &env_vars())?)
}

async fn migrate(cli: &Cli) -> anyhow::Result<ExitCode> {
    let config = load_config(&cli.config)?;
    let store = Store::open(&config.store_url).await?;
    let version = store.schema_version().await?;
    println!(
        "store {}: schema version {version}, up to date",
        store.location()
    );
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn migrate_store(from: &str, to: &str) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    let source = Store::open_existing(from).await.with_context(|| {
        format!(
            "opening the store to copy, {}",
            herald_store::redacted_url(from)
        )
    })?;
    let target = Store::open(to).await.with_context(|| {
        format!(
            "opening the store to fill, {}",
            herald_store::redacted_url(to)
        )
    })?;
    println!("copying {} into {}", source.location(), target.location());
    let tables = source
        .copy_into(&target, |t| {
            println!(
                "  {:<22} {:>10} rows  sha256 {}  same in both",
                t.table,
                t.rows,
                &t.checksum[..16]
            );
        })
        .await;
    source.close().await;
    target.close().await;
    let tables = tables?;
    let rows: u64 = tables.iter().map(|t| t.rows).sum();
    println!(
        "copied {rows} rows of {} tables in {:.1} s; every table's row count and checksum match",
        tables.len(),
        started.elapsed().as_secs_f64()
    );
    println!(
        "Next: set [store] url to {} in herald.toml (the password in PGPASSWORD or HERALD_STORE__URL), then start herald",
        herald_store::redacted_url(to)
    );
    Ok(ExitCode::SUCCESS)
}

async fn open(cli: &Cli) -> anyhow::Result<std::sync::Arc<App>> {
    App::open(load_config(&cli.config)?).await
}

/// [`open`], with the config adjusted by command-line options first.
async fn open_with(
    cli: &Cli,
    adjust: impl FnOnce(&mut Config),
) -> anyhow::Result<std::sync::Arc<App>> {
    let mut config = load_config(&cli.config)?;
    adjust(&mut config);
    App::open(config).await
}

fn now_for(app: &App, t: &TimeArgs) -> anyhow::Result<jiff::Timestamp> {
    now_or(t.now.as_deref(), &app.config.tenant.time_zone.time_zone())
        .map_err(|e| InputError(e).into())
}

fn customer_arg(s: &str) -> anyhow::Result<CustomerId> {
    CustomerId::parse(s).map_err(|e| InputError(format!("customer id {e}")).into())
}

pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Init { dir } => init(dir).await,
        Command::Check => check(&cli),
        Command::Migrate => migrate(&cli).await,
        Command::MigrateStore { from, to } => migrate_store(from, to).await,
        Command::Import(args) => import_cmd(&cli, args).await,
        Command::Run {
            time,
            dry_run,
            only_customer,
        } => {
            let app = open(&cli).await?;
            let now = now_for(&app, time)?;
            let opts = PlanOptions {
                dry_run: *dry_run,
                only_customer: only_customer.as_deref().map(customer_arg).transpose()?,
                only_rule: None,
            };
            let plan = jobs::plan(&app, now, &opts).await?;
            print_plan(&plan, *dry_run);
            if !dry_run {
                let sent = jobs::send(&app, now).await?;
                print_send(&sent, &app);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan {
            time,
            dry_run,
            only_customer,
            rule,
        } => {
            let app = open(&cli).await?;
            let now = now_for(&app, time)?;
            let opts = PlanOptions {
                dry_run: *dry_run,
                only_customer: only_customer.as_deref().map(customer_arg).transpose()?,
                only_rule: rule.clone(),
            };
            print_plan(&jobs::plan(&app, now, &opts).await?, *dry_run);
            Ok(ExitCode::SUCCESS)
        }
        Command::Send { time } => {
            let app = open(&cli).await?;
            let now = now_for(&app, time)?;
            print_send(&jobs::send(&app, now).await?, &app);
            Ok(ExitCode::SUCCESS)
        }
        Command::SendInvoices { period, rule, time } => {
            let app = open(&cli).await?;
            let now = now_for(&app, time)?;
            let (from, to) = parse_period(period)?;
            let rule = batch_rule(&app, rule.as_deref())?;
            let q = jobs::queue_invoices(&app, &rule, from, to, now).await?;
            println!(
                "queued {} invoice notice(s) of {period} by rule {} ({} deliveries); {} already queued or sent by it, {} with nobody to send to. They go out with the next `herald send` (or the service); `herald status` shows how far it got.",
                q.queued, rule.id, q.deliveries, q.existing, q.nobody
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { json } => status(&cli, *json).await,
        Command::Token { cmd } => token_cmd(&cli, cmd).await,
        Command::User { cmd } => user_cmd(&cli, cmd).await,
        Command::Pause { on, reason, until } => {
            let app = open(&cli).await?;
            let tz = app.config.tenant.time_zone.time_zone();
            let until = until
                .as_deref()
                .map(|u| crate::clock::parse_now(u, &tz).map_err(InputError))
                .transpose()?;
            let (kind, id) = on.target();
            let now = crate::clock::SystemClock.now();
            if !app
                .store
                .pause(kind, &id, reason, until, "cli", now)
                .await?
            {
                return Err(InputError(format!(
                    "there is no {} '{id}'; import it first",
                    kind.as_str()
                ))
                .into());
            }
            println!(
                "{} {id} on hold ({reason}){}: its notices are cancelled at send time until resumed",
                kind.as_str(),
                until.map(|u| format!(" until {u}")).unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Resume { on } => {
            let app = open(&cli).await?;
            let (kind, id) = on.target();
            if !app
                .store
                .resume(kind, &id, "cli", crate::clock::SystemClock.now())
                .await?
            {
                return Err(InputError(format!(
                    "{} '{id}' is not on hold; `herald holds` lists the holds",
                    kind.as_str()
                ))
                .into());
            }
            println!("{} {id} resumed", kind.as_str());
            Ok(ExitCode::SUCCESS)
        }
        Command::Cancel { id, reason } => {
            let app = open(&cli).await?;
            match app
                .store
                .cancel_notification(*id, reason, "cli", crate::clock::SystemClock.now())
                .await?
            {
                None => Err(InputError(format!(
                    "there is no notification #{id}; `herald history --customer ID` lists them"
                ))
                .into()),
                Some(0) => Err(InputError(format!(
                    "notification #{id} has nothing waiting to be sent (sent, failed or cancelled already)"
                ))
                .into()),
                Some(n) => {
                    println!("notification #{id}: {n} delivery(ies) cancelled ({reason})");
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        Command::Holds => {
            let app = open(&cli).await?;
            let holds = app.store.holds().await?;
            if holds.is_empty() {
                println!("no holds; `herald pause --customer ID --reason …` sets one");
            }
            for h in holds {
                println!(
                    "{} {}: {} (by {} at {}{})",
                    h.on.as_str(),
                    h.id,
                    h.reason,
                    h.actor,
                    h.created_at,
                    h.until.map(|u| format!(", until {u}")).unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve { listen, now } => {
            let app = open_with(&cli, |c| {
                if let Some(l) = listen {
                    c.service.listen = *l;
                }
            })
            .await?;
            let clock: std::sync::Arc<dyn herald_core::Clock> = match now {
                Some(t) => std::sync::Arc::new(crate::clock::ShiftedClock::starting_at(
                    crate::clock::parse_now(t, &app.config.tenant.time_zone.time_zone())
                        .map_err(InputError)?,
                )),
                None => std::sync::Arc::new(crate::clock::SystemClock),
            };
            crate::service::serve(app, clock, crate::service::stop_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::History {
            customer,
            invoice,
            subject,
            rule,
            limit,
            json,
        } => history(&cli, customer, invoice, subject, rule, *limit, *json).await,
        Command::Preview {
            rule,
            customer,
            subject,
            invoice,
            locale,
            html,
            time,
        } => {
            preview(
                &cli,
                rule,
                customer.as_deref(),
                subject.as_deref(),
                invoice.as_deref(),
                locale.as_deref(),
                *html,
                time,
            )
            .await
        }
        Command::Resend {
            notification_id,
            to,
            template,
            actor,
            time,
        } => {
            resend(
                &cli,
                *notification_id,
                to.as_deref(),
                template.as_deref(),
                actor,
                time,
            )
            .await
        }
        Command::Smtp {
            cmd: SmtpCommand::Test { to, account },
        } => smtp_test(&cli, to.as_deref(), account.as_deref()).await,
        Command::Demo { dir, days, seed } => crate::demo::run_demo(dir, *days, *seed).await,
        Command::BenchData {
            dir,
            customers,
            invoices,
            today,
            seed,
        } => {
            let today: jiff::civil::Date = today.parse().map_err(|e| {
                InputError(format!(
                    "--today '{today}' is not a date like 2026-11-22: {e}"
                ))
            })?;
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            let files = crate::demo_data::write_bench_csv(dir, *seed, *customers, *invoices, today)
                .with_context(|| format!("writing benchmark data to {}", dir.display()))?;
            println!("wrote {files:?}");
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn init(dir: &Path) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let cfg = dir.join("herald.toml");
    if cfg.exists() {
        return Err(InputError(format!(
            "{} already exists; herald init never overwrites a workspace. Choose another directory or remove it.",
            cfg.display()
        ))
        .into());
    }
    std::fs::write(&cfg, STARTER_CONFIG).with_context(|| format!("writing {}", cfg.display()))?;
    let config = Config::load(&cfg, &BTreeMap::new())?;
    TemplateSet::write_builtin(&config.templates_dir)
        .with_context(|| format!("writing templates to {}", config.templates_dir.display()))?;
    std::fs::create_dir_all(&config.outbox_dir)
        .with_context(|| format!("creating {}", config.outbox_dir.display()))?;
    let store = Store::open(&config.store_url).await?;
    println!("Created a herald workspace in {}:", dir.display());
    println!("  herald.toml   the configuration (tenant, channels, rules)");
    println!("  templates/    message templates per rule and language (en, pl, cs, ro)");
    if store.is_shared() {
        println!("  the database: {} (PostgreSQL)", store.location());
    } else {
        println!("  herald.db     the database (SQLite)");
    }
    store.close().await;
    println!("  outbox/       where e-mails (.eml) and SMS (.json) are written");
    println!();
    println!(
        "Next: cd {} && herald check, then herald import customers FILE, contacts, invoices, payments; then herald run.",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn check(cli: &Cli) -> anyhow::Result<ExitCode> {
    let config = load_config(&cli.config)?;
    let templates = load_templates(&config.templates_dir)?;
    let mut problems = Vec::new();
    for (rule, template) in config.templates_used() {
        if !templates.has(&template) {
            problems.push(format!(
                "rule {rule}: template '{template}' does not exist in {}",
                config.templates_dir.display()
            ));
        } else if !templates.locales_of(&template).contains(&Locale::En)
            && !templates
                .locales_of(&template)
                .contains(&config.tenant.locale)
        {
            problems.push(format!(
                "rule {rule}: template '{template}' has neither the tenant language ({}) nor en, so some customers could get nothing",
                config.tenant.locale
            ));
        }
    }
    for f in templates.check() {
        problems.push(f.to_string());
    }
    if let crate::config::EmailChannelConfig::Smtp(smtp) = &config.email
        && let Some(var) = &smtp.password_env
        && std::env::var_os(var).is_none()
    {
        problems.push(format!(
            "channels.email.password_env: the environment variable {var} is not set: export it with the SMTP password before herald sends"
        ));
    }
    if let crate::config::SmsChannelConfig::Http(g) = &config.sms
        && std::env::var_os(&g.token_env).is_none()
    {
        problems.push(format!(
            "channels.sms.token_env: the environment variable {} is not set: export it with the gateway's API token before herald sends",
            g.token_env
        ));
    }
    for w in &config.webhooks {
        if std::env::var_os(&w.secret_env).is_none() {
            problems.push(format!(
                "webhooks ({}): the environment variable {} is not set: export it with the signing secret before herald sends",
                w.name, w.secret_env
            ));
        }
    }
    let names = templates.names();
    let renders: usize = names.iter().map(|n| templates.locales_of(n).len()).sum();
    if problems.is_empty() {
        println!(
            "ok: {} is valid; {} rules; {} templates rendered in {} template×language combinations without error",
            config.path.display(),
            config.rules.invoice.len() + config.rules.dunning.len(),
            names.len(),
            renders
        );
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &problems {
            eprintln!("{p}");
        }
        Err(InputError(format!(
            "{} problem(s) found; fix them and run herald check again",
            problems.len()
        ))
        .into())
    }
}

async fn import_cmd(cli: &Cli, args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let kind: RecordKind = args.kind.parse().map_err(|e: String| InputError(e))?;
    let config = load_config(&cli.config)?;
    let store = Store::open_existing(&config.store_url).await?;
    let started = std::time::Instant::now();
    let known = import::load_known(
        &store,
        kind,
        import::Records::File(&args.file),
        import::KnownScope::Everything,
    )
    .await?;
    let size = std::fs::metadata(&args.file).map(|m| m.len()).unwrap_or(0);
    let bar = (std::io::stderr().is_terminal() && size > 1_000_000).then(|| {
        let b = indicatif::ProgressBar::new(size);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {bytes}/{total_bytes} ({eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b.set_message(format!("reading {}", args.file.display()));
        b
    });
    let opts = ImportOptions {
        ignore_unknown_columns: args.ignore_unknown_columns,
        skip_invalid: args.skip_invalid,
    };
    tracing::debug!(elapsed = ?started.elapsed(), "import: known records loaded");
    let report = import::parse_file(kind, &args.file, &known, &opts, bar.as_ref())
        .map_err(|e| InputError(e.to_string()))?;
    drop(known); // checked; what it holds is not needed while writing
    tracing::debug!(elapsed = ?started.elapsed(), rows = report.rows_read, "import: parsed and validated");
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if !report.errors.is_empty() && !args.skip_invalid {
        for e in &report.errors {
            eprintln!("{e}");
        }
        return Err(InputError(format!(
            "{} refused: {} error(s) in {} row(s); nothing was imported. Fix the rows above, or use --skip-invalid to import the good rows.",
            args.file.display(),
            report.errors.len(),
            report.rows_read
        ))
        .into());
    }
    for e in &report.errors {
        eprintln!("skipped: {e}");
    }
    let counts = import::write(&store, &report.parsed).await?;
    tracing::debug!(elapsed = ?started.elapsed(), "import: written");
    println!(
        "imported {} {}: {} new, {} updated, {} unchanged{}",
        counts.inserted + counts.updated + counts.unchanged,
        kind.as_str(),
        counts.inserted,
        counts.updated,
        counts.unchanged,
        if report.skipped_lines.is_empty() {
            String::new()
        } else {
            format!(
                "; skipped {} invalid row(s) (lines {})",
                report.skipped_lines.len(),
                join_lines(&report.skipped_lines)
            )
        }
    );
    Ok(ExitCode::SUCCESS)
}

/// `2026-11` → the first and last day of November 2026.
fn parse_period(s: &str) -> anyhow::Result<(jiff::civil::Date, jiff::civil::Date)> {
    let bad = || {
        InputError(format!(
            "--period '{s}' is not a month: write it as YYYY-MM, e.g. 2026-11"
        ))
    };
    let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
    let (Ok(y), Ok(m)) = (y.parse::<i16>(), m.parse::<i8>()) else {
        return Err(bad().into());
    };
    let first = jiff::civil::Date::new(y, m, 1).map_err(|_| bad())?;
    Ok((first, first.last_of_month()))
}

/// The rule `send-invoices` queues under: the one named, or the only batch rule.
fn batch_rule(app: &App, name: Option<&str>) -> anyhow::Result<herald_core::rules::InvoiceRule> {
    let batch: Vec<&herald_core::rules::InvoiceRule> = app
        .config
        .rules
        .invoice
        .iter()
        .filter(|r| r.trigger == herald_core::rules::InvoiceTrigger::Batch)
        .collect();
    let names = || {
        batch
            .iter()
            .map(|r| r.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let found = match name {
        Some(n) => batch.iter().find(|r| r.id == n).copied().ok_or_else(|| {
            InputError(format!(
                "there is no batch rule '{n}' (on = \"invoice.batch\"); the batch rules are: {}",
                if batch.is_empty() {
                    "(none)".to_owned()
                } else {
                    names()
                }
            ))
        })?,
        None => match batch.as_slice() {
            [one] => *one,
            [] => {
                return Err(InputError(
                    "no rule sends invoices in batches: add one to herald.toml, e.g.\n[[rules]]\nid = \"invoice-batch\"\non = \"invoice.batch\"\ntemplate = \"new-invoice\"\nchannels = [\"email\", \"sms\"]".into(),
                )
                .into());
            }
            _ => {
                return Err(InputError(format!(
                    "several batch rules ({}): name one with --rule",
                    names()
                ))
                .into());
            }
        },
    };
    if !found.enabled {
        return Err(InputError(format!(
            "rule {} is disabled (enabled = false); enable it to send invoices with it",
            found.id
        ))
        .into());
    }
    Ok(found.clone())
}

fn join_lines(lines: &[u64]) -> String {
    let mut s: Vec<String> = lines.iter().take(20).map(u64::to_string).collect();
    if lines.len() > 20 {
        s.push(format!("… {} more", lines.len() - 20));
    }
    s.join(", ")
}

fn print_plan(p: &jobs::PlanReport, dry_run: bool) {
    let window = match (p.window_after, p.window_until) {
        (Some(a), Some(u)) => format!("({a}, {u}]"),
        (None, Some(u)) => format!("(beginning, {u}]"),
        _ => String::new(),
    };
    if dry_run {
        println!(
            "dry run, window {window}: {} new notification(s) would be created ({} already exist)",
            p.inserted, p.existing
        );
        for n in &p.would_plan {
            let to: Vec<String> = n
                .deliveries
                .iter()
                .map(|d| format!("{} {}", d.channel.as_str(), d.address))
                .collect();
            println!(
                "  {}  {}  {}",
                n.dedupe_key,
                jobs::verdict_text(&n.verdict),
                to.join(", ")
            );
        }
    } else {
        println!(
            "planned window {window}: {} customer(s) looked at, {} new notification(s), {} already existed",
            p.customers, p.inserted, p.existing
        );
    }
}

fn print_send(s: &jobs::SendReport, app: &App) {
    println!(
        "sent {}, retrying {}, failed {}{}, cancelled {}{}{} — {}",
        s.sent,
        s.retrying,
        s.failed,
        if s.fell_back > 0 {
            format!(" ({} to go on by another channel)", s.fell_back)
        } else {
            String::new()
        },
        s.cancelled,
        if s.deferred > 0 {
            format!(
                ", {} held by the account's daily limit until tomorrow",
                s.deferred
            )
        } else {
            String::new()
        },
        if s.held_for_pilot + s.postponed > 0 {
            [
                (s.held_for_pilot, "held by pilot mode"),
                (s.postponed, "postponed by the business calendar"),
            ]
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!(", {n} {what}"))
            .collect::<String>()
        } else {
            String::new()
        },
        {
            let email = match &app.config.email {
                crate::config::EmailChannelConfig::File => {
                    format!("e-mail in {}", app.config.outbox_dir.display())
                }
                crate::config::EmailChannelConfig::Smtp(s) => {
                    format!("e-mail through {}:{}", s.host, s.port)
                }
            };
            let sms = match &app.config.sms {
                crate::config::SmsChannelConfig::File => {
                    format!("SMS in {}", app.config.sms_dir.display())
                }
                crate::config::SmsChannelConfig::Http(g) => {
                    format!("SMS through {}", g.preset.name())
                }
            };
            format!("{email}; {sms}")
        }
    );
    if s.lost_leases > 0 {
        println!(
            "{} sent after another node had taken them over (this node's lease ran out first; that node's outcome counts): make [dispatch] lease longer",
            s.lost_leases
        );
    }
    if s.alerted > 0 {
        println!(
            "{} failed deliveries reported to {}",
            s.alerted,
            app.config
                .alerts
                .to
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if s.retrying + s.failed > 0 {
        println!("`herald history --customer ID` shows why each one did not go out.");
    }
}

async fn status(cli: &Cli, json: bool) -> anyhow::Result<ExitCode> {
    let app = open(cli).await?;
    let now = crate::clock::SystemClock.now();
    if json {
        let v = crate::service::status_json(&app, now).await?;
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    let report = app.store.status().await?;
    let service = crate::service::service_state(&app, now).await?;
    print_service(&service);
    println!("deliveries by state:");
    for (state, n) in &report.by_state {
        println!("  {state:<16} {n:>8}");
    }
    println!("by rule:");
    // One column for the counts, however long the rule ids are.
    let width = report
        .by_rule
        .keys()
        .map(|r| r.chars().count())
        .max()
        .unwrap_or(0);
    for (rule, states) in &report.by_rule {
        let parts: Vec<String> = states.iter().map(|(s, n)| format!("{s} {n}")).collect();
        println!("  {rule:<width$} {}", parts.join(", "));
    }
    let parts: Vec<String> = report
        .notifications
        .iter()
        .map(|(v, n)| format!("{v} {n}"))
        .collect();
    println!(
        "notifications: {}",
        if parts.is_empty() {
            "none yet".into()
        } else {
            parts.join(", ")
        }
    );
    match &report.last_run {
        Some(r) => println!(
            "last planning run: #{} at {} (now = {}), {} new",
            r.id, r.started_at, r.now, r.inserted
        ),
        None => println!("last planning run: never — run `herald run`"),
    }
    match report.watermark {
        Some(w) => println!("watermark: {w} (the next run plans what falls due after it)"),
        None => println!("watermark: none yet"),
    }
    let live = app.live();
    if !live.pilot.is_empty() {
        let ids: Vec<String> = live.pilot.iter().map(|c| c.to_string()).collect();
        println!("PILOT MODE: only {} receive messages", ids.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

async fn token_cmd(cli: &Cli, cmd: &TokenCommand) -> anyhow::Result<ExitCode> {
    let app = open(cli).await?;
    let now = crate::clock::SystemClock.now();
    match cmd {
        TokenCommand::Create { name, scopes } => {
            let mut parsed: Vec<String> = scopes
                .iter()
                .map(|s| crate::auth::Scope::parse(s).map(|s| s.as_str().to_owned()))
                .collect::<Result<_, _>>()
                .map_err(InputError)?;
            parsed.sort();
            parsed.dedup();
            let new = crate::auth::new_secret()?;
            let id = app
                .store
                .create_token(name, &parsed, &new.hash, now)
                .await?;
            app.store
                .audit(
                    now,
                    "cli",
                    "token.create",
                    &format!("token {id}"),
                    &format!("{name}: {}", parsed.join(",")),
                )
                .await?;
            println!("{}", crate::auth::token_text(id, &new.text_without_id));
            eprintln!(
                "token {id} ({name}, scopes {}): shown this once; herald keeps only its hash. Send it as `Authorization: Bearer …`.",
                parsed.join(", ")
            );
        }
        TokenCommand::List => {
            let tokens = app.store.tokens().await?;
            if tokens.is_empty() {
                println!(
                    "no API tokens; create one with `herald token create --name ERP --scope ingest`"
                );
            }
            for t in tokens {
                println!(
                    "{:>4}  {:<20} {:<20} created {}  last used {}{}",
                    t.id,
                    t.name,
                    t.scopes.join(","),
                    t.created_at,
                    t.last_used_at.map_or("never".into(), |u| u.to_string()),
                    t.revoked_at
                        .map(|r| format!("  REVOKED {r}"))
                        .unwrap_or_default()
                );
            }
        }
        TokenCommand::Revoke { id } => {
            if !app.store.revoke_token(*id, now).await? {
                return Err(InputError(format!(
                    "there is no active token {id}; `herald token list` shows them"
                ))
                .into());
            }
            app.store
                .audit(now, "cli", "token.revoke", &format!("token {id}"), "")
                .await?;
            println!("token {id} revoked");
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn user_cmd(cli: &Cli, cmd: &UserCommand) -> anyhow::Result<ExitCode> {
    use crate::users;
    let app = open(cli).await?;
    let now = crate::clock::SystemClock.now();
    let role_of = |r: &str| herald_store::Role::parse(r).map_err(InputError);
    let unknown = |login: &str| {
        InputError(format!(
            "there is no console user '{login}'; `herald user list` shows them"
        ))
    };
    let change = |c: herald_store::UserChange, login: String, said: String| {
        let app = std::sync::Arc::clone(&app);
        async move {
            if !app
                .store
                .change_console_user(&login, &c, "cli", now)
                .await?
            {
                return Err(anyhow::Error::from(unknown(&login)));
            }
            println!("{said}");
            Ok(ExitCode::SUCCESS)
        }
    };
    match cmd {
        UserCommand::Create {
            login,
            role,
            name,
            locale,
            password_stdin,
        } => {
            users::check_login(login).map_err(InputError)?;
            let role = role_of(role)?;
            let locale = match locale.as_str() {
                "en" | "pl" => locale.clone(),
                other => {
                    return Err(InputError(format!(
                        "--locale: the console speaks en and pl, not '{other}'"
                    ))
                    .into());
                }
            };
            if app.store.console_user(login).await?.is_some() {
                return Err(InputError(format!(
                    "there is a console user '{login}' already; `herald user password {login}` sets a new password"
                ))
                .into());
            }
            let password = users::read_new_password(*password_stdin)?;
            users::check_new_password(&password, login).map_err(InputError)?;
            let user = herald_store::ConsoleUser {
                id: 0,
                login: login.clone(),
                name: name.clone().unwrap_or_else(|| login.clone()),
                role,
                password_hash: users::hash_password(&password)?,
                locale,
                created_at: now,
                disabled_at: None,
            };
            app.store.create_console_user(&user, "cli").await?;
            println!(
                "console user '{login}' created ({role}); sign in at http://{}/console",
                app.config.service.listen
            );
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::List => {
            let all = app.store.console_users().await?;
            if all.is_empty() {
                println!(
                    "no console users; create one with `herald user create LOGIN --role admin`"
                );
            }
            for u in all {
                println!(
                    "{}\t{}\t{}\t{}\tcreated {}{}",
                    u.login,
                    u.name,
                    u.role,
                    u.locale,
                    u.created_at,
                    u.disabled_at
                        .map(|d| format!("\tdisabled {d}"))
                        .unwrap_or_default()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Password {
            login,
            password_stdin,
        } => {
            if app.store.console_user(login).await?.is_none() {
                return Err(unknown(login).into());
            }
            let password = users::read_new_password(*password_stdin)?;
            users::check_new_password(&password, login).map_err(InputError)?;
            let c = herald_store::UserChange {
                password_hash: Some(users::hash_password(&password)?),
                ..Default::default()
            };
            change(
                c,
                login.clone(),
                format!("new password for '{login}'; signed out everywhere"),
            )
            .await
        }
        UserCommand::Role { login, role } => {
            let role = role_of(role)?;
            let c = herald_store::UserChange {
                role: Some(role),
                ..Default::default()
            };
            change(c, login.clone(), format!("'{login}' is now {role}")).await
        }
        UserCommand::Disable { login } => {
            let c = herald_store::UserChange {
                disabled: Some(true),
                ..Default::default()
            };
            change(
                c,
                login.clone(),
                format!("'{login}' disabled and signed out"),
            )
            .await
        }
        UserCommand::Enable { login } => {
            let c = herald_store::UserChange {
                disabled: Some(false),
                ..Default::default()
            };
            change(c, login.clone(), format!("'{login}' may sign in again")).await
        }
    }
}

fn print_service(s: &crate::service::ServiceState) {
    match (s.running, s.started_at, s.stopped_at) {
        (true, Some(at), _) => println!("service: running since {at}"),
        (false, Some(_), Some(at)) => println!("service: stopped at {at} (`herald serve` runs it)"),
        (false, Some(at), None) => println!(
            "service: NOT RUNNING: started at {at}, never stopped cleanly and silent since; check the host and start `herald serve` again"
        ),
        _ => {
            println!("service: never started (`herald serve` runs the planner and the dispatcher)")
        }
    }
    // One node: its jobs as before. Several: each node, then each job with its node.
    let several = s.nodes.len() > 1;
    if several {
        for n in &s.nodes {
            println!(
                "  node {}: {}{}",
                n.name,
                n.state,
                match (n.state, n.started_at, n.stopped_at, n.last_seen) {
                    ("running", Some(at), _, _) => format!(" since {at}"),
                    ("stopped", _, Some(at), _) => format!(" at {at}"),
                    (_, _, _, Some(seen)) => format!(
                        " since {seen} (killed, or its machine is down; its deliveries are taken over when their leases run out)"
                    ),
                    _ => String::new(),
                }
            );
        }
    }
    for j in &s.jobs {
        let job = if several {
            format!("{} on {}", j.job, j.holder)
        } else {
            j.job.clone()
        };
        println!(
            "  {:<11} last run {} ({}), {} runs, {} failed{}",
            job,
            j.last_started.map_or("never".into(), |t| t.to_string()),
            match (j.last_ok, &j.last_error) {
                (_, Some(e)) => format!("failed: {e}"),
                (Some(_), None) => "ok".into(),
                (None, None) => "running".into(),
            },
            j.runs,
            j.failures,
            j.last_ok
                .map(|t| format!("; last success {t}"))
                .unwrap_or_default()
        );
    }
    println!("  queue: {} deliveries due and not yet taken", s.queue_due);
    for p in &s.problems {
        println!("WARNING: {p}");
    }
}

async fn history(
    cli: &Cli,
    customer: &Option<String>,
    invoice: &Option<String>,
    subject: &Option<String>,
    rule: &Option<String>,
    limit: u32,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let app = open(cli).await?;
    let filter = HistoryFilter {
        customer: customer.as_deref().map(customer_arg).transpose()?,
        invoice: invoice
            .as_deref()
            .map(|s| InvoiceId::parse(s).map_err(|e| InputError(format!("invoice id {e}"))))
            .transpose()?,
        subject: subject.clone(),
        rule: rule.clone(),
        limit,
        ..HistoryFilter::default()
    };
    let entries = app.store.history(&filter).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(s) = subject {
        print_subject_statuses(&app, s, &entries);
    }
    if entries.is_empty() && filter.invoice.is_none() {
        println!("no notifications yet for this selection");
    }
    for e in &entries {
        let n = &e.notification;
        let status =
            herald_core::status::AggregateStatus::of(e.deliveries.iter().map(|d| d.delivery.state));
        println!(
            "#{} {} fire {} — {}{}",
            n.id,
            [
                n.rule_id.clone(),
                match (n.kind, &n.subject) {
                    (NoticeKind::Digest, Some(op)) => format!("operator {op}"),
                    (NoticeKind::Digest, None) => "office".to_owned(),
                    _ => String::new(),
                },
                n.level.map(|l| format!("level {l}")).unwrap_or_default(),
                n.invoice_ids
                    .iter()
                    .map(|i| i.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
            n.fire_at,
            status,
            n.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        );
        for dh in &e.deliveries {
            let d = &dh.delivery;
            println!(
                "    delivery {} {} {} {}{}{}",
                d.id,
                d.channel.as_str(),
                d.address,
                d.state,
                d.sent_at.map(|t| format!(" at {t}")).unwrap_or_default(),
                d.reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            );
            for a in &dh.attempt_log {
                println!(
                    "      attempt {} {}: {}",
                    a.at,
                    a.outcome.as_str(),
                    a.detail
                );
            }
        }
        if let Some(next) = e.next_reminder_on {
            println!("    next reminder on {next}");
        }
    }
    if let Some(id) = &filter.invoice {
        print_rules_without_notice(&app, id, &entries).await?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Seed 000's "show send statuses" for a subject, as columns (see
/// [`crate::documents::subject_columns`]).
fn print_subject_statuses(app: &App, subject: &str, entries: &[herald_store::HistoryEntry]) {
    let columns = crate::documents::subject_columns(app, entries);
    if columns.is_empty() {
        return;
    }
    let name = |s: herald_core::status::AggregateStatus| {
        use herald_core::status::AggregateStatus;
        match s {
            AggregateStatus::NotApplicable => "NotApplicable",
            AggregateStatus::Pending => "Pending",
            AggregateStatus::Sent => "Sent",
            AggregateStatus::PartiallySent => "PartiallySent",
            AggregateStatus::Failed => "Failed",
            AggregateStatus::Cancelled => "Cancelled",
        }
    };
    println!("{subject}");
    println!(
        "{}",
        columns
            .iter()
            .map(|c| format!("{:<15}", c.label))
            .collect::<String>()
            .trim_end()
    );
    println!(
        "{}",
        columns
            .iter()
            .map(|c| format!("{:<15}", name(c.status)))
            .collect::<String>()
            .trim_end()
    );
    println!();
}

/// For each invoice rule that has no notification about this invoice, why not.
async fn print_rules_without_notice(
    app: &App,
    id: &InvoiceId,
    entries: &[herald_store::HistoryEntry],
) -> anyhow::Result<()> {
    let Some(view) = app.store.invoice(id).await? else {
        return Err(InputError(format!("there is no invoice '{id}'")).into());
    };
    for (rule, why) in crate::documents::rules_without_notice(app, &view, entries).await? {
        println!("- {rule} {} — {why}", view.invoice.id);
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn preview(
    cli: &Cli,
    rule: &str,
    customer: Option<&str>,
    subject: Option<&str>,
    invoice: Option<&str>,
    locale: Option<&str>,
    html: bool,
    time: &TimeArgs,
) -> anyhow::Result<ExitCode> {
    let app = open(cli).await?;
    let now = now_for(&app, time)?;
    let customer_id = customer.map(customer_arg).transpose()?;
    let locale = locale
        .map(|l| Locale::parse(l).map_err(|e| InputError(e.0)))
        .transpose()?;
    let p = crate::documents::preview(
        &app,
        &crate::documents::PreviewRequest {
            rule,
            customer: customer_id,
            invoice,
            subject,
            locale,
            now,
        },
    )
    .await?;
    let to: Vec<String> =
        p.to.iter()
            .map(|d| format!("{} <{}> ({})", d.name, d.address, d.channel))
            .collect();
    println!("rule:      {rule}");
    println!("template:  {} ({})", p.template, p.locale);
    println!(
        "to:        {}",
        if to.is_empty() {
            "nobody: no contact can be reached".into()
        } else {
            to.join(", ")
        }
    );
    println!("subject:   {}", p.subject);
    println!("---");
    println!("{}", p.text);
    if let Some(sms) = &p.sms {
        println!("--- sms");
        println!("{sms}");
    }
    if html {
        println!("--- html");
        println!("{}", p.html);
    }
    Ok(ExitCode::SUCCESS)
}

async fn resend(
    cli: &Cli,
    id: i64,
    to: Option<&str>,
    template: Option<&str>,
    actor: &str,
    time: &TimeArgs,
) -> anyhow::Result<ExitCode> {
    let app = open(cli).await?;
    let now = now_for(&app, time)?;
    if app.store.notification(id).await?.is_none() {
        return Err(InputError(format!(
            "there is no notification #{id}; `herald history --customer ID` lists them"
        ))
        .into());
    }
    let to = match to {
        Some(a) => Some((
            herald_core::EmailAddress::parse(a)
                .map_err(|e| InputError(format!("--to: {e}")))?
                .to_string(),
            String::new(),
        )),
        None => None,
    };
    if let Some(t) = template
        && !app.templates().has(t)
    {
        bail!(InputError(format!(
            "there is no template '{t}'; templates: {}",
            app.templates().names().join(", ")
        )));
    }
    let delivery = app
        .store
        .resend(id, to, template.map(str::to_owned), actor, now)
        .await?;
    println!("notification #{id}: new delivery {delivery} queued (audit-logged as {actor})");
    print_send(&jobs::send(&app, now).await?, &app);
    Ok(ExitCode::SUCCESS)
}

async fn smtp_test(cli: &Cli, to: Option<&str>, account: Option<&str>) -> anyhow::Result<ExitCode> {
    use herald_channels::{EmailChannel, EmailMessage, Mailbox, Outcome, SmtpChannel};
    let config = load_config(&cli.config)?;
    let (settings, from) = match account {
        Some(name) => {
            let Some(a) = config.accounts.iter().find(|a| a.name == name) else {
                let known: Vec<&str> = config.accounts.iter().map(|a| a.name.as_str()).collect();
                return Err(InputError(format!(
                    "--account {name}: {} has no [[accounts]] entry named '{name}'; it has: {}",
                    config.path.display(),
                    if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    }
                ))
                .into());
            };
            (
                &a.settings,
                Mailbox::new(a.from_name.clone(), a.from.clone()),
            )
        }
        None => match &config.email {
            crate::config::EmailChannelConfig::Smtp(s) => (
                s,
                Mailbox::new(config.from_name.clone(), config.from.clone()),
            ),
            crate::config::EmailChannelConfig::File => {
                return Err(InputError(format!(
                    "{}: channels.email.kind is \"file\", so there is no SMTP account to test; set kind = \"smtp\" and host (see the README), or name an [[accounts]] entry with --account",
                    config.path.display()
                ))
                .into());
            }
        },
    };
    let to = to
        .map(|a| {
            herald_core::EmailAddress::parse(a)
                .map_err(|e| InputError(format!("--to '{a}': {}", e.0)))
        })
        .transpose()?;
    println!(
        "SMTP account {}:{} (security {:?}{})",
        settings.host,
        settings.port,
        settings.security,
        settings
            .user
            .as_deref()
            .map(|u| format!(", user {u}"))
            .unwrap_or_default()
    );
    let channel = SmtpChannel::new(settings.clone());
    let mut step = |s: &str| println!("  ok    {s}");
    if let Err(f) = channel.open(&mut step).await {
        println!("  FAIL  {}: {}", f.step, f.detail);
        return Ok(ExitCode::from(1));
    }
    let Some(to) = to else {
        println!("the account works; add --to ADDRESS to send a test message");
        return Ok(ExitCode::SUCCESS);
    };
    use herald_core::clock::Clock as _;
    let now = crate::clock::SystemClock.now();
    let msg = EmailMessage {
        message_id: format!("herald-test-{}@{}", now.as_millisecond(), from.domain()),
        date: now,
        from,
        reply_to: None,
        to: vec![Mailbox::new(None, to.clone())],
        subject: "herald: SMTP test".to_owned(),
        text: format!(
            "This is a test message from herald, sent through {}:{}.\n",
            settings.host, settings.port
        ),
        html: format!(
            "<p>This is a test message from herald, sent through {}:{}.</p>",
            settings.host, settings.port
        ),
        attachments: Vec::new(),
        read_receipt_to: None,
        headers: Vec::new(),
    };
    match channel.send_email(0, &msg).await {
        Outcome::Delivered { detail, .. } => {
            println!("  ok    test message to {to}: {detail}");
            Ok(ExitCode::SUCCESS)
        }
        other => {
            println!("  FAIL  test message to {to}: {}", other.detail());
            Ok(ExitCode::from(1))
        }
    }
}
