use clap::Parser;

fn main() {
    let cli = kgpc::cli::Cli::parse();
    std::process::exit(kgpc::stdio::exit_status(kgpc::commands::run(cli)));
}
