use clap::Parser;

fn main() {
    let cli = kgpc::cli::Cli::parse();
    std::process::exit(kgpc::commands::run(cli));
}
