use clap::Parser;

fn main() {
    let cli = kgpc::cli::Cli::parse();
    let status = match kgpc::commands::run(cli) {
        Ok(success) => success.exit_code(),
        Err(error) => error.exit_code(),
    };
    std::process::exit(kgpc::stdio::exit_status(status));
}
