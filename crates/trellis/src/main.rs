//! The `trellis` command. Everything it does lives in the library.

fn main() -> std::process::ExitCode {
    trellis::cli::main()
}
