//! The `cove` binary: command line, wiring, and fatal-error reporting.

mod cli;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use cove::config::{self, LoadInput, Loaded, Overrides};

#[derive(Parser, Debug)]
#[command(
    name = "cove",
    version,
    about = "A private, offline terminal coding assistant for self-hosted models"
)]
struct Cli {
    /// Run in DIR instead of the current directory (the workspace).
    #[arg(short = 'C', value_name = "DIR", global = true)]
    dir: Option<PathBuf>,
    /// Use the model profile NAME ([profiles.NAME] in the config).
    #[arg(long, value_name = "NAME", global = true)]
    profile: Option<String>,
    /// Read this config file on top of the user and workspace files (like COVE_CONFIG).
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<PathBuf>,
    /// Continue the newest session of this workspace.
    #[arg(long = "continue", short = 'c', conflicts_with = "resume")]
    continue_: bool,
    /// Continue session ID (a unique prefix is enough); without ID, pick one from a list.
    #[arg(long, value_name = "ID", num_args = 0..=1, default_missing_value = "")]
    resume: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Ask once: stream the answer to stdout.
    Ask(cli::ask::AskArgs),
    /// Run the agent without a screen (CI, scripts): tools by policy, an optional check
    /// that must pass, an optional commit; text or NDJSON out.
    Exec(cli::exec::ExecArgs),
    /// Serve the Agent Client Protocol (v1) on stdin/stdout, for editors (Zed, JetBrains,
    /// Neovim): each session's cwd is its workspace.
    Acp,
    /// List the models the server offers.
    Models {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show the effective configuration and where each value came from.
    Config,
    /// Probe the configured server(s): kind, context size, tool calling.
    Doctor,
    /// List this workspace's sessions: id, start, first prompt, turns, files changed.
    Sessions {
        /// Print JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The configured MCP servers: each started as a session would, its state and tools.
    Mcp {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run a command the way cove runs the model's commands (sandboxed per [sandbox]).
    Sandbox {
        /// Allow the network for this run (as `[sandbox] network = true` would).
        #[arg(long)]
        network: bool,
        /// The command and its arguments, after `--`.
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<std::ffi::OsString>,
    },
    /// Trust this workspace's .cove/config.toml as it is now (until then, only its harmless
    /// keys apply: no endpoints, keys, tool allowances, offline or sandbox changes).
    Trust {
        /// Stop trusting it.
        #[arg(long)]
        revoke: bool,
    },
    /// What cove sent to model and MCP servers, and the guard's events, from the privacy
    /// ledger ($XDG_DATA_HOME/cove/ledger.jsonl): time, endpoint, purpose, bytes, tokens,
    /// redactions.
    Ledger {
        /// Print the ledger's JSON lines instead of a table.
        #[arg(long)]
        json: bool,
        /// Only lines from this long ago (90m, 12h, 7d, 2w) or since this time
        /// (2026-12-01, 2026-12-01T09:00:00Z).
        #[arg(long, value_name = "DURATION|TIME")]
        since: Option<String>,
        /// Only this session's lines (a prefix of its id is enough).
        #[arg(long, value_name = "ID")]
        session: Option<String>,
    },
    /// Print the shell completion script for SHELL (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to complete for.
        #[arg(value_enum, value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout: `cove man | man -l -`.
    Man,
}

pub const EXIT_OK: u8 = 0;
pub const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    // `cove __sandbox-exec ...`: the sandbox helper, before anything else (see src/sandbox/)
    cove::sandbox::run_helper_if_requested();
    cove::sandbox::use_installed_helper();
    let cli = Cli::parse();
    // generated from the clap definitions alone: no config, workspace, log or server
    match cli.command {
        Some(Command::Completions { shell }) => {
            return ExitCode::from(cli::completions::completions(Cli::command(), shell));
        }
        Some(Command::Man) => return ExitCode::from(cli::completions::man(Cli::command())),
        // the record is read without the config: it must open where cove cannot start
        Some(Command::Ledger {
            json,
            ref since,
            ref session,
        }) => {
            return ExitCode::from(cli::ledger::run(json, since.as_deref(), session.as_deref()));
        }
        _ => {}
    }
    let _log_guard = init_logging();
    let workspace = match cli
        .dir
        .clone()
        .map(Ok)
        .unwrap_or_else(std::env::current_dir)
    {
        Ok(d) => d,
        Err(e) => {
            return fail(
                EXIT_USAGE,
                &format!("cannot determine the working directory: {e}"),
            );
        }
    };
    if !workspace.is_dir() {
        return fail(
            EXIT_USAGE,
            &format!("{} is not a directory", workspace.display()),
        );
    }
    let mut overrides = Overrides {
        profile: cli.profile.clone(),
        config_file: cli.config.clone(),
        ..Overrides::default()
    };
    match &cli.command {
        Some(Command::Ask(args)) => {
            overrides.model = args.model.clone();
            overrides.base_url = args.base_url.clone();
        }
        Some(Command::Exec(args)) => {
            overrides.model = args.model.clone();
            overrides.base_url = args.base_url.clone();
        }
        _ => {}
    }
    let loaded = match config::load(&LoadInput::from_process(
        workspace.clone(),
        overrides.clone(),
    )) {
        Ok(l) => l,
        Err(e) => return fail(EXIT_USAGE, &e.to_string()),
    };
    if !matches!(cli.command, Some(Command::Config | Command::Trust { .. })) {
        for w in &loaded.warnings {
            eprintln!("cove: warning: {w}");
        }
        // the session shows it on screen (and asks once)
        if let (Some(u), Some(_)) = (&loaded.untrusted, &cli.command) {
            cli::say(&u.notice());
        }
    }
    let code = match cli.command {
        None => {
            // an untrusted workspace file is asked about once, before anything starts
            let loaded = match cli::trust_prompt::settle(loaded, &workspace, || {
                config::load(&LoadInput::from_process(
                    workspace.clone(),
                    overrides.clone(),
                ))
            }) {
                Ok(l) => l,
                Err(code) => return ExitCode::from(code),
            };
            let start = if cli.continue_ {
                cli::tui::Start::Newest
            } else {
                match cli.resume.as_deref() {
                    Some("") => cli::tui::Start::Pick,
                    Some(id) => cli::tui::Start::Id(id.to_owned()),
                    None => cli::tui::Start::New,
                }
            };
            // `[model]` before any profile, for `/model NAME` to lay another profile over
            let base_model = config::load(&LoadInput::from_process(
                workspace.clone(),
                Overrides {
                    profile: Some(String::new()),
                    config_file: cli.config.clone(),
                    ..Overrides::default()
                },
            ))
            .ok()
            .map(|l| l.config.model);
            cli::tui::run(loaded, workspace, cli.profile.clone(), start, base_model)
        }
        Some(Command::Sessions { json }) => cli::sessions::run(&workspace, json),
        Some(Command::Trust { revoke }) => cli::trust::run(&workspace, revoke),
        Some(Command::Sandbox { network, command }) => {
            cli::sandbox::run(&loaded, &workspace, network, &command)
        }
        Some(Command::Config) => {
            print!("{}", config::render_effective(&loaded));
            EXIT_OK
        }
        Some(Command::Ask(args)) => run_async(cli::ask::run(args, loaded)),
        Some(Command::Exec(args)) => cli::exec::run(args, loaded, workspace),
        Some(Command::Acp) => cli::acp::run(overrides),
        Some(Command::Models { json }) => run_async(cli::models::run(loaded, json)),
        Some(Command::Doctor) => run_async(cli::doctor::run(loaded)),
        Some(Command::Mcp { json }) => run_async(cli::mcp::run(loaded, &workspace, json)),
        Some(Command::Completions { .. } | Command::Man | Command::Ledger { .. }) => EXIT_OK,
    };
    ExitCode::from(code)
}

fn run_async(fut: impl std::future::Future<Output = u8>) -> u8 {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(fut),
        Err(e) => {
            eprintln!("cove: cannot start the async runtime: {e}");
            1
        }
    }
}

fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("cove: error: {message}");
    ExitCode::from(code)
}

/// Logs go to a file in the state dir (never the terminal); `COVE_LOG=debug` raises the level.
fn init_logging() -> Option<()> {
    let dirs = directories::ProjectDirs::from("", "", "cove")?;
    let dir = dirs
        .state_dir()
        .unwrap_or_else(|| dirs.data_local_dir())
        .to_owned();
    let file = cove::private_files::open_append(&dir.join("cove.log")).ok()?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("COVE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init()
        .ok()
}

/// Used by subcommands that need the loaded config's model client.
pub fn main_client(loaded: &Loaded) -> Result<cove::llm::Client, cove::llm::LlmError> {
    let model = &loaded.config.model;
    let env = |k: &str| std::env::var(k).ok();
    cove::llm::Client::new(
        model.endpoints(&env),
        cove::llm::ClientOptions::from_config(&loaded.config, model),
    )
}
