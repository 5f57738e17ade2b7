//! `cove completions SHELL` and `cove man`: shell completions and the man page, generated
//! from the clap definitions in `main.rs` (so they cannot drift from the real options).
//! Neither needs a config, a workspace or a server.

use std::io::{self, Write};

use clap_complete::Shell;

use crate::EXIT_OK;

/// Exit code when stdout cannot be written (other than a closed pipe).
const EXIT_IO: u8 = 1;

/// Writes the completion script for `shell` to stdout.
pub fn completions(mut cmd: clap::Command, shell: Shell) -> u8 {
    let mut buf = Vec::new();
    let name = cmd.get_name().to_owned();
    clap_complete::generate(shell, &mut cmd, name, &mut buf);
    emit(&buf)
}

/// Writes the man page (roff, section 1) to stdout.
pub fn man(cmd: clap::Command) -> u8 {
    let mut buf = Vec::new();
    match render_man(cmd, &mut buf) {
        Ok(()) => emit(&buf),
        Err(e) => {
            super::say_error(&format!("cannot render the man page: {e}"));
            EXIT_IO
        }
    }
}

/// The whole page: clap_mangen's sections for `cove` itself, then each subcommand with its
/// usage and options, then exit status, environment and files.
pub fn render_man(cmd: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    let mut cmd = cmd;
    cmd.build();
    let page = clap_mangen::Man::new(cmd.clone()).section("1");
    page.render_title(out)?;
    page.render_name_section(out)?;
    page.render_synopsis_section(out)?;
    page.render_description_section(out)?;
    page.render_options_section(out)?;
    render_commands(&cmd, out)?;
    out.write_all(TAIL.as_bytes())?;
    page.render_version_section(out)?;
    Ok(())
}

/// `COMMANDS`: every visible subcommand with its usage line, description and options.
fn render_commands(cmd: &clap::Command, out: &mut dyn Write) -> io::Result<()> {
    let subs: Vec<&clap::Command> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        .collect();
    if subs.is_empty() {
        return Ok(());
    }
    writeln!(out, ".SH COMMANDS")?;
    for sub in subs {
        let full = format!("{} {}", cmd.get_name(), sub.get_name());
        writeln!(out, ".SS \"{}\"", quoted(&full))?;
        let mut sub = sub.clone();
        let usage = sub.render_usage().to_string();
        let usage = usage.trim_start_matches("Usage:").trim();
        writeln!(out, ".B {}", quoted_arg(usage))?;
        writeln!(out, ".PP")?;
        let about = sub
            .get_long_about()
            .or_else(|| sub.get_about())
            .map(|a| a.to_string())
            .unwrap_or_default();
        for line in about.lines() {
            writeln!(out, "{}", text(line))?;
        }
        for arg in sub.get_arguments() {
            if arg.is_hide_set() || matches!(arg.get_id().as_str(), "help" | "version") {
                continue;
            }
            if arg.is_global_set() {
                continue;
            }
            writeln!(out, ".TP")?;
            writeln!(out, "{}", text(&arg_label(arg)))?;
            let help = arg
                .get_long_help()
                .or_else(|| arg.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default();
            for line in help.lines() {
                writeln!(out, "{}", text(line))?;
            }
        }
    }
    Ok(())
}

/// `--flag VALUE`, `-x`, or `<NAME>` for a positional.
fn arg_label(arg: &clap::Arg) -> String {
    let value = arg
        .get_value_names()
        .map(|names| {
            names
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| arg.get_id().as_str().to_uppercase());
    let takes_value = arg.get_action().takes_values();
    let mut flags = Vec::new();
    if let Some(s) = arg.get_short() {
        flags.push(format!("-{s}"));
    }
    if let Some(l) = arg.get_long() {
        flags.push(format!("--{l}"));
    }
    if flags.is_empty() {
        return format!("<{value}>");
    }
    let flags = flags.join(", ");
    if takes_value {
        format!("{flags} {value}")
    } else {
        flags
    }
}

/// A line of running text: roff escapes, and no control word at the line start.
fn text(line: &str) -> String {
    let escaped = line.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

/// Text inside a double-quoted macro argument.
fn quoted(s: &str) -> String {
    text(s).replace('"', "\\(dq")
}

/// A macro argument that may hold spaces.
fn quoted_arg(s: &str) -> String {
    format!("\"{}\"", quoted(s))
}

const TAIL: &str = r#".SH "EXIT STATUS"
.TP
0
success
.TP
2
usage or configuration error (including an offline refusal)
.TP
3
the model server is unreachable
.TP
4
the server returned an error
.TP
5
the stream ended early
.TP
130
interrupted by the user
.SH ENVIRONMENT
.TP
.B COVE_BASE_URL, COVE_MODEL, COVE_API_KEY
the model server, model and API key, over the config files
.TP
.B COVE_VISION_BASE_URL, COVE_VISION_MODEL
the same for images
.TP
.B COVE_CONFIG
one more config file, read last
.TP
.B COVE_LOG
the log level (for example \fBdebug\fR); the log is a file in the state directory
.SH FILES
.TP
.I ~/.config/cove/config.toml
the user's config (trusted)
.TP
.I .cove/config.toml
the workspace's config: only its harmless keys apply until \fBcove trust\fR
.TP
.I /usr/share/doc/cove/examples/config.toml
an example config (installed by the Debian package)
"#;

/// Writes to stdout; a reader that went away (`cove man | head`) is not an error.
fn emit(bytes: &[u8]) -> u8 {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => EXIT_OK,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            super::say_error(&format!("cannot write to stdout: {e}"));
            EXIT_IO
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roff_text_escapes_control_lines_and_backslashes() {
        assert_eq!(text(".hidden"), "\\&.hidden");
        assert_eq!(text("'x"), "\\&'x");
        assert_eq!(text("a\\b --c"), "a\\eb \\-\\-c");
        assert_eq!(quoted("say \"hi\""), "say \\(dqhi\\(dq");
    }
}
